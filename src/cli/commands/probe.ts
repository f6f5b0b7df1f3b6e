import { type Command, engineOf, num, numList, str, UsageError } from '../command';

export const probe: Command = {
  name: 'probe',
  summary: 'soft-rounding probe: mAP with weights soft-rounded at δ, next to hard and latent weights',
  usage: 'MODEL --data DATASET [--delta 0.05,0.1,0.25] [--per-layer] [--engine E] [--limit N] [--json FILE]',
  help: [
    '  --data PATH    evaluation data set (COCO or YOLO)',
    '  --delta LIST   soft-rounding thresholds δ (default 0.05,0.1,0.25)',
    '  --per-layer    also soft-round one layer at a time and rank layers by the change',
    '  --engine E     auto (default), cpu, webgpu or cuda',
    '  --limit N      score only the first N images',
    '  --json FILE    write the report as JSON',
  ].join('\n'),
  options: {
    data: { type: 'string' }, delta: { type: 'string' }, 'per-layer': { type: 'boolean' },
    engine: { type: 'string' }, limit: { type: 'string' }, json: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  inputs: (v, pos) => [pos[0]!, str(v, 'data')!],
  request: (v, pos) => {
    const data = str(v, 'data');
    if (!data) throw new UsageError('--data is required');
    return {
      kind: 'probe',
      params: {
        model: pos[0]!,
        data,
        deltas: numList(v, 'delta', (n) => n >= 0 && n <= 0.5, 'numbers in [0, 0.5]') ?? [0.05, 0.1, 0.25],
        perLayer: v['per-layer'] === true,
        engine: engineOf(v),
        limit: num(v, 'limit', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        jsonOut: str(v, 'json'),
      },
    };
  },
  print: (r, out) => out(JSON.stringify(r, null, 2)),
};
