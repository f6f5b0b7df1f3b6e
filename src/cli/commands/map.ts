import { type Command, engineOf, num, str, UsageError } from '../command';

export const map: Command = {
  name: 'map',
  summary: 'run an ONNX model over a data set on the best local engine and score its COCO mAP',
  usage: 'MODEL.onnx --data DATASET [--engine auto|cpu|webgpu|cuda] [--limit N] [--json FILE] [--dt FILE]',
  help: [
    '  --data PATH    COCO (instances JSON + images) or YOLO (data.yaml) data set',
    '  --engine E     auto (default), cpu, webgpu or cuda',
    '  --limit N      score only the first N images',
    '  --json FILE    write the report as JSON',
    '  --dt FILE      also write the detections in COCO results format',
  ].join('\n'),
  options: { data: { type: 'string' }, engine: { type: 'string' }, limit: { type: 'string' }, json: { type: 'string' }, dt: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  inputs: (v, pos) => [pos[0]!, str(v, 'data')!],
  request: (v, pos) => {
    const data = str(v, 'data');
    if (!data) throw new UsageError('--data is required');
    return {
      kind: 'map',
      params: {
        model: pos[0]!,
        data,
        engine: engineOf(v),
        limit: num(v, 'limit', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        jsonOut: str(v, 'json'),
        dtOut: str(v, 'dt'),
      },
    };
  },
  print: (r, out) => out(JSON.stringify(r, null, 2)),
};
