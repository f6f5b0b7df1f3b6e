// The precision plan as a self-contained HTML page: the report script (webview/report.ts) draws the
// panel's own precision view from the embedded report: the plan ready to paste, findings and
// limits, the gain chart, the plan curve and the per-layer table.
import { type HtmlReportOptions, reportPage } from '../report/html';
import type { PrecisionReport } from './types';

export function precisionPage(r: PrecisionReport, opts: HtmlReportOptions = {}): string {
  return reportPage({ ...opts, title: opts.title ?? `QAT Lens precision plan: ${r.model}`, data: { precision: r } });
}
