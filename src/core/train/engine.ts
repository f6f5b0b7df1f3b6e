// QC's gradient engine on onnxruntime-node (docs/train.md): on the CPU, each micro-batch cut into
// slices of images on worker threads (shards.ts), one shard per onnxruntime thread by default; on a
// GPU engine, or with one thread, one engine on this thread (single.ts).
import { cpus } from 'node:os';
import type { onnx } from '../onnx/proto';
import { addressSpaceLeft } from '../qc/memory';
import { createShardedEngine } from './shards';
import { openGradEngine } from './single';
import type { GradEngine, GradEngineOptions } from './types';

/** Address space a shard may need beyond what the process maps when it starts (bytes). */
const SHARD_ROOM = 2 ** 31;

export { buildTrainGraphs, type TrainGraphs } from './single';
export type { GradEngine, GradEngineOptions } from './types';

export async function createGradEngine(model: onnx.ModelProto, file: string, o: GradEngineOptions): Promise<GradEngine> {
  const threads = o.threads ?? cpus().length;
  const shards = Math.max(1, Math.min(threads, Math.floor(o.shards ?? threads)));
  // Under an address-space limit (ulimit -v) a thread that cannot reserve V8's code range aborts the
  // process: shard only with room for each shard's isolate and arena to spare.
  if (shards === 1 || addressSpaceLeft() < shards * SHARD_ROOM) return openGradEngine(model, file, { ...o, threads });
  const per = Math.max(1, Math.floor(threads / shards));
  // 'auto' finds out whether a GPU engine runs by opening it; the CPU is then given to the shards
  // (and to this thread's engine where the shards' script is missing).
  return openGradEngine(model, file, { ...o, threads }, (size, notes, shapes) => createShardedEngine(model, file, { ...o, imgsz: size }, shards, per, notes, shapes));
}
