// One-off codemod: FormatError takes (message, file) like QatLensError(message, file, code).
// Swaps the first two arguments of every `new FormatError(a, b)` / `new PickleError(a, b, offset)`
// and `super(a, b)` inside classes extending FormatError, in the given .ts files, and rewrites FormatError's constructor in
// src/core/errors.ts. Run it once, on the merged tree (every branch's calls are file-first until then):
//   node tools/dev/formatErrorOrder.mjs $(git ls-files 'src/*.ts' 'test/*.ts' 'bench/*.ts' 'tools/*.ts' 'webview/*.ts')
// then `npm run typecheck && npm test`, and delete this file.
import { readFileSync, writeFileSync } from 'node:fs';
import ts from 'typescript';

// FormatError and its subclasses whose constructors start (file, message).
const NAMES = new Set(['FormatError', 'PickleError']);
let calls = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edits = [];
  const extendsFormatError = (node) => {
    for (let p = node.parent; p; p = p.parent) {
      if (ts.isClassDeclaration(p) || ts.isClassExpression(p)) {
        return (p.heritageClauses ?? []).some((h) => h.types.some((t) => t.expression.getText(sf) === 'FormatError'));
      }
    }
    return false;
  };
  const visit = (node) => {
    const isNew = ts.isNewExpression(node) && NAMES.has(node.expression.getText(sf));
    const isSuper = ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword && extendsFormatError(node);
    if ((isNew || isSuper) && node.arguments && node.arguments.length >= 2) {
      const [a, b] = node.arguments;
      edits.push({ start: a.getStart(sf), end: b.getEnd(), text: `${b.getText(sf)}, ${a.getText(sf)}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let out = text;
  for (const e of edits.sort((x, y) => y.start - x.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  if (file.endsWith('src/core/errors.ts')) {
    out = out.replace('constructor(file: string, message: string) {\n    super(message, file, \'EFORMAT\');', 'constructor(message: string, file: string) {\n    super(message, file, \'EFORMAT\');');
  }
  if (file.endsWith('src/core/readers/pickle.ts')) {
    out = out.replace('constructor(file: string, message: string, readonly offset: number)', 'constructor(message: string, file: string, readonly offset: number)');
  }
  if (out !== text) writeFileSync(file, out);
  calls += edits.length;
}
console.log(`swapped the arguments of ${calls} FormatError constructions`);
