// Job "probe". Owned by the engine; runs the same in the worker, the CLI and tests.
import { QatLensError } from '../errors';
import type { JobContext } from './context';

export interface ProbeParams {
  model: string;
  data: string;
  deltas: number[];
  perLayer: boolean;
  engine?: "auto" | "cpu" | "webgpu" | "cuda";
  limit?: number;
  jsonOut?: string;
}
export interface ProbeResult {
  kind: 'probe';
}

export async function runProbe(_p: ProbeParams, _ctx: JobContext): Promise<ProbeResult> {
  throw new QatLensError('the "probe" job is not built yet');
}
