// Job "compare": float / QAT / soft-round δ / latent / QC mAP side by side; table, JSON, HTML.
import { compareModels, type CompareParams as Params } from '../compare/compare';
import type { CompareReport } from '../compare/types';
import { toComparison } from '../compare/view';
import { reportPage } from '../report/html';
import { atomicWrite } from '../io/atomicWrite';
import { jsonChunks, withNewline } from '../io/jsonChunks';
import type { JobContext } from '../context';

export interface CompareParams extends Params {
  jsonOut?: string;
  htmlOut?: string;
}
export type CompareResult = CompareReport;

export async function runCompare(p: CompareParams, ctx: JobContext): Promise<CompareResult> {
  const report = await compareModels(p, ctx);
  const inputs = [p.qat, p.float, p.latent, p.corrected].filter((x): x is string => !!x);
  if (p.jsonOut) {
    report.jsonOut = p.jsonOut;
    await atomicWrite(p.jsonOut, withNewline(jsonChunks(report, 1)), { signal: ctx.signal, inputs });
  }
  if (p.htmlOut) {
    report.htmlOut = p.htmlOut;
    const page = reportPage({ title: 'QAT Lens: mAP side by side', data: { comparison: toComparison(report, report.comparison.title) } });
    await atomicWrite(p.htmlOut, page, { signal: ctx.signal, inputs });
  }
  ctx.progress({ message: 'done', fraction: 1 });
  return report;
}
