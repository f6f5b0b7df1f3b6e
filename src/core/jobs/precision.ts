// Job "precision": the precision plan (src/core/precision/), its what-if ONNX, JSON and HTML.
import { atomicWrite } from '../io/atomicWrite';
import { precisionPage } from '../precision/html';
import { precisionPlan } from '../precision/precision';
import type { PrecisionOptions, PrecisionReport } from '../precision/types';
import type { JobContext } from '../context';

export interface PrecisionParams extends PrecisionOptions {
  model: string;
  /** The plan's what-if ONNX. */
  out?: string;
  jsonOut?: string;
  htmlOut?: string;
}

export interface PrecisionResult {
  kind: 'precision';
  report: PrecisionReport;
  out?: string;
  jsonOut?: string;
  htmlOut?: string;
}

export async function runPrecision(p: PrecisionParams, ctx: JobContext): Promise<PrecisionResult> {
  const { model, out, jsonOut, htmlOut, ...opts } = p;
  const { report, planBytes } = await precisionPlan(model, opts, ctx);
  const inputs = [model, p.data, p.latent, p.float].filter((x): x is string => !!x);
  if (out && planBytes) {
    await atomicWrite(out, planBytes, { signal: ctx.signal, inputs });
    report.plan.out = out;
    ctx.log('info', `wrote the plan's what-if model ${out}`);
  } else if (out) {
    ctx.log('warn', `the plan is empty: ${out} not written`);
  }
  if (jsonOut) await atomicWrite(jsonOut, `${JSON.stringify(report, null, 1)}\n`, { signal: ctx.signal, inputs });
  if (htmlOut) await atomicWrite(htmlOut, precisionPage(report), { signal: ctx.signal, inputs });
  return { kind: 'precision', report, out: report.plan.out, jsonOut, htmlOut };
}
