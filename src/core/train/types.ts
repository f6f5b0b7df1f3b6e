// What a QC gradient engine is (single.ts: one engine on this thread; shards.ts: slices of each
// micro-batch on worker threads; engine.ts picks).
import type { EngineChoice } from '../infer/engine';
import type { QuantLayer } from '../qc/heads';
import type { HeadShape } from './checks';

export interface GradEngineOptions {
  engine?: EngineChoice;
  /** γ/β sites: quantized Conv/Gemm outputs (qc/heads.ts findQuantLayers). */
  layers: QuantLayer[];
  /** Head value names (raw Detect conv outputs). */
  heads: string[];
  /** CPU threads (default: every core). */
  threads?: number;
  /** Image size [h, w] when the model's input does not fix it. */
  imgsz?: [number, number];
  /** Keep the forward's values for the backward instead of recomputing them (default: on the CPU engine). */
  keep?: boolean;
  /** Let onnxruntime's pool threads spin between runs (default off; benchmarks only). */
  spin?: boolean;
  /**
   * CPU engine: cut each micro-batch into this many slices of images, each run on its own worker
   * thread with threads / shards onnxruntime threads (shards.ts). Default: as many as `threads`, one
   * onnxruntime thread each; 1 runs one engine on this thread.
   */
  shards?: number;
  /** The part of the free memory this engine may plan with (a shard: 1 / shards; default 1). */
  memoryShare?: number;
}

export interface GradEngine {
  /** What ran, e.g. 'cpu (2 threads)', 'webgpu (NVIDIA H200)'. */
  readonly device: string;
  /** Why other engines were skipped. */
  readonly notes: string[];
  readonly size: [number, number];
  /** Whether forward(..., keep = true) keeps values for the backward (the CPU engine) or ignores it. */
  readonly keeps: boolean;
  /** The heads forward() returns, in its order, with their shapes per image. */
  readonly heads: HeadShape[];
  /**
   * Head outputs for NCHW images [batch, 3, H, W] under γ/β (one Float32Array per layer each). With
   * `keep`, the engine also holds what the backward of these images reads, until that backward runs
   * or the next kept forward replaces it (memory: one micro-batch's saved values).
   */
  forward(images: Float32Array, batch: number, gamma: Float32Array[], beta: Float32Array[], keep?: boolean): Promise<Float32Array[]>;
  /**
   * dLoss/dγ and dLoss/dβ for that micro-batch, given dLoss/dHeads for it (forward's layout). Uses the
   * values a kept forward of the same `images` (the same memory) under the same γ/β saved, else recomputes.
   */
  backward(images: Float32Array, batch: number, gamma: Float32Array[], beta: Float32Array[], dHeads: Float32Array[]): Promise<{ dGamma: Float32Array[]; dBeta: Float32Array[] }>;
  dispose(): Promise<void>;
}
