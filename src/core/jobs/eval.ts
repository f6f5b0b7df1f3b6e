// Job "eval". Owned by the engine; runs the same in the worker, the CLI and tests.
import { QatLensError } from '../errors';
import type { JobContext } from './context';

export interface EvalParams {
  gt: string;
  dt: string;
  jsonOut?: string;
}
export interface EvalResult {
  kind: 'eval';
}

export async function runEval(_p: EvalParams, _ctx: JobContext): Promise<EvalResult> {
  throw new QatLensError('the "eval" job is not built yet');
}
