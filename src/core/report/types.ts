// What an HTML report page embeds as JSON for its script (webview/report.ts) to draw.
import type { AnalysisReport } from '../analysis/types';
import type { MapComparison } from '../compare/types';
import type { PrecisionReport } from '../precision/types';

/** The per-layer soft-rounding probe, as its chart needs it. */
export interface ProbeLayersData {
  delta: number;
  images: number;
  layers: { name: string; relativeChange: number; flagged: boolean }[];
}

export interface ReportPageData {
  analysis?: { report: AnalysisReport; engine: string };
  comparison?: MapComparison;
  probeLayers?: ProbeLayersData;
  precision?: PrecisionReport;
}
