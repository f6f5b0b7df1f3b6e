import { formatReportTable } from '../../core/report/table';
import { type Command, num, str } from '../command';

export const analyze: Command = {
  name: 'analyze',
  summary: 'per-layer distance to quantization thresholds, oscillation flags, tracking across checkpoints',
  usage: '<checkpoint>... [--bits N] [--delta 0.05] [--json FILE] [--html FILE]',
  help: [
    '  <checkpoint>   .onnx, .pt, .pth, .ckpt or .safetensors; several = one run (ordered by epoch, else name)',
    '  --bits N       bit-width where the file does not record it',
    '  --delta D      near-threshold distance δ (default 0.05)',
    '  --json FILE    write the JSON report',
    '  --html FILE    write a self-contained HTML report',
  ].join('\n'),
  options: { bits: { type: 'string' }, delta: { type: 'string' }, json: { type: 'string' }, html: { type: 'string' } },
  positionals: { min: 1, max: Infinity },
  inputs: (_v, pos) => pos,
  request: (v, pos) => ({
    kind: 'analyze',
    params: {
      files: pos,
      bits: num(v, 'bits', (n) => Number.isInteger(n) && n >= 2 && n <= 16, 'a whole number from 2 to 16'),
      delta: num(v, 'delta', (n) => n > 0 && n <= 0.5, 'a number in (0, 0.5]'),
      jsonOut: str(v, 'json'),
      htmlOut: str(v, 'html'),
    },
  }),
  print: (r, out) => {
    if (r.kind !== 'analyze') return out(JSON.stringify(r, null, 2));
    for (const line of formatReportTable(r.report)) out(line);
  },
};
