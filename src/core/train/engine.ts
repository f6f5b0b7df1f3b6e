// QC's gradient engine on onnxruntime-node (docs/train.md): on the CPU, each micro-batch cut into
// slices of images on worker threads (shards.ts), one shard per onnxruntime thread by default; on a
// GPU engine, or with one thread, one engine on this thread (single.ts).
import { cpus } from 'node:os';
import type { onnx } from '../onnx/proto';
import { addressSpaceLeft } from '../qc/memory';
import { createShardedEngine } from './shards';
import { openGradEngine } from './single';
import type { GradEngine, GradEngineOptions } from './types';

export { buildTrainGraphs, type TrainGraphs } from './single';
export type { GradEngine, GradEngineOptions } from './types';

export async function createGradEngine(model: onnx.ModelProto, file: string, o: GradEngineOptions): Promise<GradEngine> {
  const threads = o.threads ?? cpus().length;
  const shards = Math.max(1, Math.min(threads, Math.floor(o.shards ?? threads)));
  // Under an address-space limit (ulimit -v) native code in a shard's thread that fails to map (V8
  // reserving a worker's code range, a thread's stack: std::system_error) aborts the process
  // instead of failing the step: shard only where no such limit is set.
  if (shards === 1 || addressSpaceLeft() !== Infinity) return openGradEngine(model, file, { ...o, threads });
  const per = Math.max(1, Math.floor(threads / shards));
  // 'auto' finds out whether a GPU engine runs by opening it; the CPU is then given to the shards
  // (and to this thread's engine where the shards' script is missing).
  return openGradEngine(model, file, { ...o, threads }, (size, notes, shapes) => createShardedEngine(model, file, { ...o, imgsz: size }, shards, per, notes, shapes));
}
