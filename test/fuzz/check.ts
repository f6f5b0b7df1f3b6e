// One fuzz case, run in this process, and the properties every reader owes its input: it ends (in
// time), with a result or a QatLensError of one line that names an input file; it reads nothing
// outside the case's input folder (every opened path is resolved through its symlinks); and a
// refusal writes nothing.
import { syncBuiltinESMExports } from 'node:module';
// The module object itself (an `import * as` namespace has read-only getters).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof import('node:fs');
import { join, relative, resolve, sep } from 'node:path';
import { quietContext } from '../../src/core/context';
import { labelledImages } from '../../src/core/data/dataset';
import { QatLensError } from '../../src/core/errors';
import { runJob } from '../../src/core/jobs';
import type { CaseSpec } from './targets';

export interface Outcome {
  ok: boolean;
  /** The refusal, when the input was refused. */
  message?: string;
  /** Property violations: empty when the case passed. */
  violations: string[];
  ms: number;
}

const opened: string[] = [];
let recording = false;

/** Records every path whose contents are read (open, readFile, createReadStream), sync and async. */
export function installReadRecorder(): void {
  if (recording) return;
  recording = true;
  const wrap = <F extends (...a: any[]) => any>(obj: any, name: string) => {
    const orig = obj[name] as F;
    obj[name] = function (this: unknown, p: unknown, ...rest: unknown[]) {
      if (typeof p === 'string' || p instanceof URL || Buffer.isBuffer(p)) opened.push(String(p instanceof URL ? p.pathname : p));
      return orig.call(this, p, ...rest);
    };
  };
  for (const n of ['openSync', 'readFileSync', 'createReadStream', 'open', 'readFile']) wrap(fs, n);
  for (const n of ['open', 'readFile']) wrap(fs.promises, n);
  syncBuiltinESMExports();
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith('/'));
}

/** Runs the case in `dir` (made by makeCase) and checks the properties. */
export async function runCase(dir: string, spec: CaseSpec): Promise<Outcome> {
  installReadRecorder();
  opened.length = 0;
  const violations: string[] = [];
  const t0 = performance.now();
  let ok = false;
  let message: string | undefined;
  const out = join(dir, 'out');
  const model = (ext: RegExp) => fs.readdirSync(join(dir, 'model')).find((n) => ext.test(n))!;
  let root: string;
  let confined = true;
  try {
    switch (spec.target) {
      case 'onnx':
      case 'pt':
      case 'pt-legacy':
      case 'safetensors': {
        root = join(dir, 'model');
        const file = join(root, model(/^model\./));
        await runJob({ kind: 'analyze', params: { files: [file], bits: spec.bits, jsonOut: join(out, 'report.json') } }, quietContext());
        break;
      }
      case 'coco-gt':
      case 'coco-dt': {
        root = join(dir, 'data');
        await runJob({ kind: 'eval', params: { gt: join(root, 'gt.json'), dt: join(root, 'dt.json'), jsonOut: join(out, 'eval.json') } }, quietContext());
        break;
      }
      case 'yolo-labels':
      case 'data-yaml': {
        root = join(dir, 'data');
        confined = spec.target === 'yolo-labels'; // a data.yaml may point anywhere: that is what it is for
        await labelledImages(join(root, 'data.yaml'), 'val');
        break;
      }
    }
    ok = true;
  } catch (err) {
    if (!(err instanceof QatLensError)) {
      violations.push(`crash: ${err instanceof Error ? `${err.name}: ${err.message.split('\n')[0].slice(0, 200)}` : String(err)}`);
    } else {
      message = err.message;
      if (message.includes('\n')) violations.push(`refusal spans ${message.split('\n').length} lines`);
      if (!message.includes(dir)) violations.push(`refusal does not name the input file: ${message.slice(0, 200)}`);
      if (message.length > 2000) violations.push(`refusal is ${message.length} characters long`);
    }
  }
  const ms = performance.now() - t0;
  if (ms > 10_000) violations.push(`took ${(ms / 1000).toFixed(1)} s`);
  root = resolve(join(dir, spec.target.startsWith('coco') || spec.target.startsWith('yolo') || spec.target === 'data-yaml' ? 'data' : 'model'));
  if (confined) {
    const realRoot = fs.realpathSync(root);
    for (const p of new Set(opened)) {
      let real: string;
      try {
        real = fs.realpathSync(resolve(p));
      } catch {
        real = resolve(p);
      }
      if (real.includes('canary') || !inside(realRoot, real)) {
        if (!inside(resolve('node_modules'), real) && !real.startsWith('/proc/') && !real.startsWith('/sys/')) violations.push(`read outside the input folder: ${real}`);
      }
    }
  }
  if (!ok) {
    const written = fs.readdirSync(out);
    if (written.length) violations.push(`wrote ${written.join(', ')} although the input was refused`);
  }
  return { ok, message, violations, ms };
}
