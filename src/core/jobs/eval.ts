// Job "eval": score a COCO results file against a COCO instances file exactly as pycocotools'
// COCOeval does. Runs the same in the worker, the CLI and tests.
import { engineError, throwIfAborted } from '../errors';
import { evaluateCoco, type CocoEvalResult } from '../eval/cocoeval';
import { loadCocoGt, loadCocoResults } from '../eval/cocoFiles';
import { checkDetsMatchGt } from '../eval/cocoValidate';
import { atomicWrite } from '../io/atomicWrite';
import type { JobContext } from '../context';

export interface EvalParams {
  gt: string;
  dt: string;
  jsonOut?: string;
}
export interface EvalResult extends CocoEvalResult {
  kind: 'eval';
  gt: string;
  dt: string;
  seconds: number;
}

/** What `--json` writes: the 12 stats and {category id: {name, ap, ap50}}. */
export function evalJson(r: Pick<EvalResult, 'stats' | 'perCategory'>): string {
  return JSON.stringify({ stats: r.stats, perCategory: r.perCategory }, null, 2) + '\n';
}

export async function runEval(p: EvalParams, ctx: JobContext): Promise<EvalResult> {
  ctx.progress({ message: `reading ${p.gt}`, fraction: 0 });
  const gt = await loadCocoGt(p.gt);
  throwIfAborted(ctx.signal);
  ctx.progress({ message: `reading ${p.dt}`, fraction: 0.3 });
  const dets = await loadCocoResults(p.dt);
  checkDetsMatchGt(gt, dets, p.dt);
  throwIfAborted(ctx.signal);
  ctx.progress({ message: `evaluating ${dets.length} detections`, fraction: 0.5 });
  const t0 = performance.now();
  let r: ReturnType<typeof evaluateCoco>;
  try {
    r = evaluateCoco(gt, dets);
  } catch (err) {
    throw engineError(err, p.gt, 'evaluation'); // e.g. too many categories: name the instances file
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const w of r.warnings) ctx.log('warn', w);
  throwIfAborted(ctx.signal);
  if (p.jsonOut) await atomicWrite(p.jsonOut, evalJson(r), { signal: ctx.signal, inputs: [p.gt, p.dt] });
  ctx.progress({ message: 'done', fraction: 1 });
  return { kind: 'eval', gt: p.gt, dt: p.dt, ...r, seconds };
}
