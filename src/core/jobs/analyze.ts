// Job "analyze". Owned by the engine; runs the same in the worker, the CLI and tests.
import type { AnalysisReport } from '../analysis/types';
import { QatLensError } from '../errors';
import type { JobContext } from './context';

export interface AnalyzeParams {
  /** One checkpoint, or several of one run (a sequence). */
  files: string[];
  bits?: number;
  /** Near-threshold distance δ (qatLens.delta), default 0.05. */
  delta?: number;
  /** Minimum concentration for a flag (qatLens.flag.concentration), default 1.5. */
  flagConcentration?: number;
  /** Largest Bonferroni-adjusted p-value for a flag (qatLens.flag.maxPValue), default 0.001. */
  flagMaxPValue?: number;
  jsonOut?: string;
  htmlOut?: string;
}
export interface AnalyzeResult {
  kind: 'analyze';
  report: AnalysisReport;
}

export async function runAnalyze(_p: AnalyzeParams, _ctx: JobContext): Promise<AnalyzeResult> {
  throw new QatLensError('the "analyze" job is not built yet');
}
