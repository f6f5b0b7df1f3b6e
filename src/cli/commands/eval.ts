import { type Command, str, UsageError } from '../command';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score a COCO results file against COCO instances exactly as pycocotools does',
  usage: '--gt INSTANCES.json --dt DETECTIONS.json [--json FILE]',
  help: ['  --gt FILE      COCO instances JSON (ground truth)', '  --dt FILE      COCO results JSON (detections)', '  --json FILE    write stats and per-category AP as JSON'].join('\n'),
  options: { gt: { type: 'string' }, dt: { type: 'string' }, json: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  inputs: (v) => [str(v, 'gt')!, str(v, 'dt')!],
  request: (v) => {
    const gt = str(v, 'gt');
    const dt = str(v, 'dt');
    if (!gt || !dt) throw new UsageError('both --gt and --dt are required');
    return { kind: 'eval', params: { gt, dt, jsonOut: str(v, 'json') } };
  },
  // Exactly the 12 lines pycocotools' summarize() prints.
  print: (r, out) => out(r.kind === 'eval' ? r.summaryText : JSON.stringify(r, null, 2)),
};
