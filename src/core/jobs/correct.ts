// Job "correct". Owned by the engine; runs the same in the worker, the CLI and tests.
import { QatLensError } from '../errors';
import type { JobContext } from './context';

export interface CorrectParams {
  model: string;
  data: string;
  calib?: string;
  steps?: number;
  lr?: number;
  out: string;
  engine?: "auto" | "cpu" | "webgpu" | "cuda";
  jsonOut?: string;
}
export interface CorrectResult {
  kind: 'correct';
}

export async function runCorrect(_p: CorrectParams, _ctx: JobContext): Promise<CorrectResult> {
  throw new QatLensError('the "correct" job is not built yet');
}
