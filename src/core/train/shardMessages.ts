// The messages between a gradient shard's thread (shardThread.ts) and the engine that runs it (shards.ts).
import type { ErrorInfo } from '../errors';
import type { HeadShape } from './checks';
import type { GradEngineOptions } from './types';

/** What the thread starts from (workerData): the model's bytes and the engine's options. */
export interface ShardInit {
  model: Uint8Array;
  file: string;
  options: GradEngineOptions;
  /** The forward's value shapes as the starting engine probed them. */
  shapes?: Map<string, number[]>;
}

export type ShardRequest =
  | { id: number; op: 'forward'; images: Float32Array; batch: number; gamma: Float32Array[]; beta: Float32Array[]; keep: boolean }
  /** `images` undefined: those of the last kept forward (so the engine finds what it kept). */
  | { id: number; op: 'backward'; images?: Float32Array; batch: number; gamma: Float32Array[]; beta: Float32Array[]; dHeads: Float32Array[] }
  /** Release the engine (answered with { id, closed: true }); the thread is ended after. */
  | { id: number; op: 'close' };

/** What a started shard reports. */
export interface ShardReady {
  device: string;
  keeps: boolean;
  heads: HeadShape[];
}

export type ShardReply =
  | { id: 0; ready: ShardReady }
  | { id: number; heads: Float32Array[] }
  | { id: number; dGamma: Float32Array[]; dBeta: Float32Array[] }
  | { id: number; closed: true }
  | { id: number; error: ErrorInfo };
