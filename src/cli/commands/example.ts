// `qat-lens example`: the workflow job on the bundled example. The example's layout lives here, not
// in the engine: examples/shapes/{data.yaml, float.onnx, w<B>a<B>/{qdq.onnx, qdq_latent.onnx?, epoch_*.pt}}.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { QatLensError } from '../../core/errors';
import type { WorkflowParams, WorkflowResult } from '../../core/jobs/workflow';
import { compareSummary } from '../../core/compare/table';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, bootstrapOf, type Command, engineOf, num, str, UsageError } from '../command';

/** The bundled example: beside the package (../examples from dist/ or src/cli/commands), else in the working folder. */
export function findExampleDir(): string {
  const tried: string[] = [];
  for (let d = __dirname; ; d = dirname(d)) {
    const c = join(d, 'examples', 'shapes');
    tried.push(c);
    if (existsSync(join(c, 'data.yaml'))) return c;
    if (dirname(d) === d) break;
  }
  const c = resolve('examples', 'shapes');
  if (existsSync(join(c, 'data.yaml'))) return c;
  throw new QatLensError(`the bundled example was not found (looked for examples/shapes/data.yaml above ${__dirname} and in ${process.cwd()}); pass --dir`);
}

function need(file: string, what: string): string {
  if (!existsSync(file)) throw new QatLensError(`missing ${what}; the example is incomplete (see examples/shapes/README.md)`, file, 'ENOENT');
  return file;
}

/** epoch_*.pt of a run folder, in epoch order. */
export function epochCheckpoints(dir: string): string[] {
  if (!existsSync(dir)) throw new QatLensError('run folder not found', dir, 'ENOENT');
  const files = readdirSync(dir).filter((f) => /^epoch_?\d+\.pt$/.test(f));
  if (files.length === 0) throw new QatLensError('no epoch_*.pt checkpoints in this folder', dir, 'ENOENT');
  const n = (f: string) => Number(/\d+/.exec(f)![0]);
  return files.sort((a, b) => n(a) - n(b)).map((f) => join(dir, f));
}

export interface ExampleOptions {
  dir?: string;
  bits?: 4 | 3;
  out?: string;
}

/**
 * QC's learning rate on the large set per example model: the best rows of docs/qc.md's table
 * (bench/qcSweep.ts). W3A3's corrections are larger (its gap is 2.8x W4A4's) and want a larger step.
 */
export const EXAMPLE_QC_LR: Record<4 | 3, number> = { 4: 3e-3, 3: 1e-2 };

/** The workflow job's files for the bundled example's W<bits>A<bits> run. */
export function exampleWorkflow(o: ExampleOptions, rest: Omit<WorkflowParams, 'data' | 'qat' | 'float' | 'checkpoints' | 'latent' | 'out' | 'corrected' | 'title'> = {}): WorkflowParams {
  const dir = resolve(o.dir ?? findExampleDir());
  const bits = o.bits ?? 4;
  const run = join(dir, `w${bits}a${bits}`);
  const checkpoints = epochCheckpoints(run);
  const out = resolve(o.out ?? 'qat-lens-example-out');
  // Latent weights for the probe: the float-weight QDQ export where there is one, else the last
  // checkpoint paired with the integer QDQ model (the W3A3 run ships no latent export).
  const latentOnnx = join(run, 'qdq_latent.onnx');
  return {
    ...rest,
    ...(rest.largeShapes && rest.lr === undefined ? { lr: EXAMPLE_QC_LR[bits] } : {}),
    data: need(join(dir, 'data.yaml'), 'data.yaml'),
    float: need(join(dir, 'float.onnx'), 'float model'),
    qat: need(join(run, 'qdq.onnx'), `W${bits}A${bits} QDQ model`),
    checkpoints,
    latent: existsSync(latentOnnx) ? latentOnnx : checkpoints[checkpoints.length - 1],
    out,
    corrected: join(out, `w${bits}a${bits}_qc.onnx`),
    title: `QAT Lens: bundled example W${bits}A${bits}`,
  };
}

export const example: Command = {
  name: 'example',
  summary: 'the whole workflow on the bundled example: analysis, soft-rounding probe, QC, mAP side by side',
  usage: '[--out DIR] [--bits 4|3] [--data large|bundled] [--steps N] [--batch N] [--lr X] [--limit N] [--shapes-dir DIR] [--bootstrap N] [--seed S] [--dir EXAMPLE_DIR]',
  help: [
    '  --out DIR      output folder (default ./qat-lens-example-out): report.json, report.html, the corrected ONNX',
    '  --bits B       4 (W4A4, default) or 3 (W3A3)',
    '  --data D       large (default: 1000 val / 4000 calib / 500 holdout images, generated once into the',
    '                 cache folder, ~3 min on 2 cores) or bundled (examples/shapes: 200 val / 256 calib images)',
    '  --steps N      QC Adam steps (default: large, one epoch over the calib split; bundled, 60)',
    '  --batch N      QC calibration images per step (default: large 16, bundled 8)',
    '  --lr X         QC Adam learning rate (default: large W4A4 3e-3, W3A3 1e-2; bundled 1e-3)',
    '  --limit N      score only the first N evaluation images (default all)',
    '  --shapes-dir DIR  where the large set is generated (default: $QAT_LENS_CACHE, else the user cache folder)',
    '  --dir DIR      the example folder (default: the bundled examples/shapes)',
    '  --engine E     auto (default), cpu, webgpu or cuda',
    BOOTSTRAP_HELP,
  ].join('\n'),
  options: {
    out: { type: 'string' },
    bits: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    limit: { type: 'string' },
    dir: { type: 'string' },
    engine: { type: 'string' },
    data: { type: 'string' },
    'shapes-dir': { type: 'string' },
    ...BOOTSTRAP_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  inputs: (v) => (str(v, 'dir') ? [str(v, 'dir')!] : []),
  request: (v) => {
    const whole = (n: number) => Number.isInteger(n) && n > 0;
    const bits = num(v, 'bits');
    if (bits !== undefined && bits !== 4 && bits !== 3) throw new UsageError(`--bits must be 4 or 3, got "${str(v, 'bits')}"`);
    const data = str(v, 'data');
    if (data !== undefined && data !== 'bundled' && data !== 'large') throw new UsageError(`--data must be bundled or large, got "${data}"`);
    const dir = str(v, 'dir');
    if (dir !== undefined && !existsSync(dir)) throw new UsageError(`no such file or folder: ${dir}`);
    return {
      kind: 'workflow',
      params: exampleWorkflow(
        { dir, bits: bits as 4 | 3 | undefined, out: str(v, 'out') },
        {
          steps: num(v, 'steps', whole, 'a positive whole number'),
          batch: num(v, 'batch', whole, 'a positive whole number'),
          lr: num(v, 'lr', (n) => n > 0, 'a positive number'),
          limit: num(v, 'limit', whole, 'a positive whole number'),
          engine: engineOf(v),
          ...(data !== 'bundled' ? { largeShapes: { dir: str(v, 'shapes-dir') } } : {}),
          ...bootstrapOf(v),
        },
      ),
    };
  },
  print: (res, out) => {
    const r = res as WorkflowResult;
    out(`${r.title} (data ${r.settings.data}): ${r.analysis.flagged.length} of ${r.analysis.layers} layers flagged for oscillation`);
    for (const f of r.probe.findings) out(f);
    out('');
    compareSummary(r.comparison).forEach((l) => out(l));
    out('');
    const kept = r.settings.keptStep !== undefined ? `, kept step ${r.settings.keptStep} (best mAP@.5:.95 on ${r.settings.heldOutImages} held-out images)` : '';
    out(`QC used ${r.settings.steps} steps × ${r.settings.batch} calibration images${kept}; took ${r.seconds.toFixed(0)} s in all`);
    out(`wrote ${r.files.json}`);
    out(`wrote ${r.files.html}`);
    out(`wrote ${r.files.corrected}`);
  },
};
