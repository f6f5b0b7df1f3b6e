// ESLint rule "qat-lens/no-cycle": no import circle among the project's own modules, counting every
// import alike: value, `import type`, `export ... from`, and dynamic import() of a relative path.
// (eslint-plugin-import-x's no-cycle skips type-only imports by design; here they count, since the
// first value import added to such a loop turns it into an init-order bug.) The import graph of
// every .ts file reachable from the linted one is built once per lint run from TypeScript's own
// import scanner (ts.preProcessFile) and relative paths; strongly connected components are circles.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

const graph = new Map(); // file -> [{ spec, target }]

function resolveSpec(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}/index.ts`]) {
    if (c.endsWith('.ts') && existsSync(c) && statSync(c).isFile()) return c;
  }
  return undefined;
}

function importsOf(file) {
  let out = graph.get(file);
  if (out) return out;
  out = [];
  graph.set(file, out);
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  for (const f of info.importedFiles) {
    const target = resolveSpec(file, f.fileName);
    if (target) out.push({ spec: f.fileName, target });
  }
  return out;
}

/** The circle through `file`, as a list of files starting and ending there, or undefined. */
function circleThrough(file, first) {
  // Breadth-first from the first import's target back to `file`: the shortest circle via that edge.
  const prev = new Map([[first, null]]);
  const queue = [first];
  while (queue.length) {
    const cur = queue.shift();
    if (cur === file) {
      const path = [];
      for (let x = cur; x !== null; x = prev.get(x)) path.unshift(x);
      return [file, ...path];
    }
    for (const { target } of importsOf(cur)) {
      if (!prev.has(target)) {
        prev.set(target, cur);
        queue.push(target);
      }
    }
  }
  return undefined;
}

export const noCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'no import circle among project modules, type-only imports included' },
    schema: [],
    messages: { cycle: 'import circle: {{circle}}' },
  },
  create(context) {
    const file = resolve(context.filename);
    const root = context.cwd ?? process.cwd();
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      const target = resolveSpec(file, spec);
      if (!target) return;
      const circle = circleThrough(file, target);
      if (circle) context.report({ node, messageId: 'cycle', data: { circle: circle.map((f) => relative(root, f)).join(' -> ') } });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default { rules: { 'no-cycle': noCycle } };
