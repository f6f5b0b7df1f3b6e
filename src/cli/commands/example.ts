import type { ExampleResult } from '../../core/jobs/example';
import { compareSummary } from '../../core/compare/table';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, bootstrapOf, type Command, engineOf, num, str, UsageError } from '../command';

export const example: Command = {
  name: 'example',
  summary: 'the whole workflow on the bundled example: analysis, soft-rounding probe, QC, mAP side by side',
  usage: '[--out DIR] [--bits 4|3] [--steps N] [--batch N] [--limit N] [--data bundled|large] [--shapes-dir DIR] [--bootstrap N] [--seed S] [--dir EXAMPLE_DIR]',
  help: [
    '  --out DIR      output folder (default ./qat-lens-example-out): report.json, report.html, the corrected ONNX',
    '  --bits B       4 (W4A4, default) or 3 (W3A3)',
    '  --steps N      QC Adam steps (default 60)',
    '  --batch N      QC calibration images per step (default 8)',
    '  --limit N      score only the first N evaluation images (default all)',
    '  --data D       bundled (default: examples/shapes, 200 val / 256 calib images) or large (1000 val / 4000 calib /',
    '                 500 holdout images, generated once into the cache folder, ~3 min on 2 cores)',
    '  --shapes-dir DIR  where the large set is generated (default: $QAT_LENS_CACHE, else the user cache folder)',
    '  --dir DIR      the example folder (default: the bundled examples/shapes)',
    '  --engine E     auto (default), cpu, webgpu or cuda',
    BOOTSTRAP_HELP,
  ].join('\n'),
  options: {
    out: { type: 'string' }, bits: { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' },
    limit: { type: 'string' }, dir: { type: 'string' }, engine: { type: 'string' },
    data: { type: 'string' }, 'shapes-dir': { type: 'string' }, ...BOOTSTRAP_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  inputs: (v) => (str(v, 'dir') ? [str(v, 'dir')!] : []),
  request: (v) => {
    const whole = (n: number) => Number.isInteger(n) && n > 0;
    const bits = num(v, 'bits');
    if (bits !== undefined && bits !== 4 && bits !== 3) throw new UsageError(`--bits must be 4 or 3, got "${str(v, 'bits')}"`);
    const data = str(v, 'data');
    if (data !== undefined && data !== 'bundled' && data !== 'large') throw new UsageError(`--data must be bundled or large, got "${data}"`);
    return {
      kind: 'example',
      params: {
        out: str(v, 'out'), dir: str(v, 'dir'), bits: bits as 4 | 3 | undefined,
        steps: num(v, 'steps', whole, 'a positive whole number'), batch: num(v, 'batch', whole, 'a positive whole number'),
        limit: num(v, 'limit', whole, 'a positive whole number'), engine: engineOf(v),
        data, shapesDir: str(v, 'shapes-dir'),
        ...bootstrapOf(v),
      },
    };
  },
  print: (res, out) => {
    const r = res as ExampleResult;
    out(`Example W${r.settings.bits}A${r.settings.bits} (data ${r.settings.data}): ${r.analysis.flagged.length} of ${r.analysis.layers} layers flagged for oscillation`);
    for (const f of r.probe.findings) out(f);
    out('');
    compareSummary(r.comparison).forEach((l) => out(l));
    out('');
    out(`QC used ${r.settings.steps} steps × ${r.settings.batch} calibration images; took ${r.seconds.toFixed(0)} s in all`);
    out(`wrote ${r.files.json}`);
    out(`wrote ${r.files.html}`);
    out(`wrote ${r.files.corrected}`);
  },
};
