import { type Command, engineOf, num, str, UsageError } from '../command';

export const correct: Command = {
  name: 'correct',
  summary: 'Quantization Correction: fit per-channel γ/β with the detection loss, write a corrected ONNX',
  usage: 'MODEL.onnx --data DATASET --out FILE.onnx [--calib DATASET_OR_SPLIT] [--steps N] [--lr X] [--json FILE]',
  help: [
    '  --data PATH    evaluation data set (mAP before and after)',
    '  --calib PATH   labelled calibration images (default: the data set\'s calibration/training split)',
    '  --steps N      Adam steps',
    '  --lr X         Adam learning rate (default 1e-3)',
    '  --out FILE     corrected ONNX model to write (never the input)',
    '  --engine E     inference engine for mAP: auto (default), cpu, webgpu or cuda',
    '  --json FILE    write the report as JSON',
  ].join('\n'),
  options: {
    data: { type: 'string' }, calib: { type: 'string' }, steps: { type: 'string' }, lr: { type: 'string' },
    out: { type: 'string' }, engine: { type: 'string' }, json: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  inputs: (v, pos) => [pos[0]!, str(v, 'data')!],
  request: (v, pos) => {
    const data = str(v, 'data');
    const out = str(v, 'out');
    if (!data) throw new UsageError('--data is required');
    if (!out) throw new UsageError('--out is required');
    return {
      kind: 'correct',
      params: {
        model: pos[0]!,
        data,
        out,
        calib: str(v, 'calib'),
        steps: num(v, 'steps', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        lr: num(v, 'lr', (n) => n > 0, 'a positive number'),
        engine: engineOf(v),
        jsonOut: str(v, 'json'),
      },
    };
  },
  print: (r, out) => out(JSON.stringify(r, null, 2)),
};
