// Job "analyze". Owned by the engine; runs the same in the worker, the CLI and tests.
import { QatLensError } from '../errors';
import type { JobContext } from './context';

export interface AnalyzeParams {
  /** One checkpoint, or several of one run (a sequence). */
  files: string[];
  bits?: number;
  delta?: number;
  jsonOut?: string;
  htmlOut?: string;
}
export interface AnalyzeResult {
  kind: 'analyze';
}

export async function runAnalyze(_p: AnalyzeParams, _ctx: JobContext): Promise<AnalyzeResult> {
  throw new QatLensError('the "analyze" job is not built yet');
}
