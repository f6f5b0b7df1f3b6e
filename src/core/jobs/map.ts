// Job "map". Owned by the engine; runs the same in the worker, the CLI and tests.
import { QatLensError } from '../errors';
import type { JobContext } from './context';

export interface MapParams {
  model: string;
  data: string;
  engine?: "auto" | "cpu" | "webgpu" | "cuda";
  limit?: number;
  jsonOut?: string;
  dtOut?: string;
}
export interface MapResult {
  kind: 'map';
}

export async function runMap(_p: MapParams, _ctx: JobContext): Promise<MapResult> {
  throw new QatLensError('the "map" job is not built yet');
}
