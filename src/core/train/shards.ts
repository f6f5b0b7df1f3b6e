// The CPU gradient engine as data-parallel shards: each micro-batch is cut into slices of whole
// images, each slice runs on its own worker thread with its own single-threaded engine
// (shardThread.ts), and the heads are joined and the dγ/dβ summed here. On this project's 2-core
// machine onnxruntime's own intra-op pool (spinning off: engine.ts) gains little over one thread:
// every op wakes the pool, and a step has about 2,000 ops; slices of images need no waking inside a run.
// Same numbers as one engine up to float summation order (test/train/shards.test.ts).
import type { Worker } from 'node:worker_threads';
import { QatLensError, type ErrorInfo } from '../errors';
import { onnx } from '../onnx/proto';
import { startThread } from '../threads';
import { checkDHeads, checkImages, sameMemory } from './checks';
import type { ShardInit, ShardReady, ShardReply, ShardRequest } from './shardMessages';
import type { GradEngine, GradEngineOptions } from './types';

/** A request before it is numbered (Omit of each member of the union). */
type Unnumbered = ShardRequest extends infer R ? (R extends ShardRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve: (m: ShardReply) => void;
  reject: (e: Error) => void;
  done: Promise<unknown>;
}

/** An error from a shard, as the thread would have thrown it (RangeError stays one: it means memory). */
export function fromInfo(e: ErrorInfo, file: string): Error {
  if (e.code) return new QatLensError(e.file && e.message.startsWith(`${e.file}: `) ? e.message.slice(e.file.length + 2) : e.message, e.file, e.code);
  if (e.name === 'RangeError') return new RangeError(e.message);
  return new QatLensError(`QC gradient shard: ${e.message}`, file, 'ESHARD');
}

/** One shard's thread: numbered requests and their replies; a thread that dies fails what it had and every later call. */
export class Shard {
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private dead: Error | undefined;
  readonly ready: Promise<ShardReady>;

  constructor(
    private readonly thread: Worker,
    file: string,
  ) {
    this.ready = new Promise((resolve, reject) => this.pending.set(0, { resolve: (m) => resolve((m as { ready: ShardReady }).ready), reject, done: Promise.resolve() }));
    // Awaited by the engine's start; a thread that dies later must not leave it unhandled.
    this.ready.catch(() => undefined);
    thread.on('message', (m: ShardReply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if ('error' in m) p?.reject(fromInfo(m.error, file));
      else p?.resolve(m);
    });
    // A thread that dies (a native abort takes the process; an exception or exit does not) fails what it had.
    const fail = (err: Error) => {
      this.dead ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    thread.on('error', (e) => fail(new QatLensError(`QC gradient shard failed: ${e.message}`, file, 'ESHARD')));
    thread.on('exit', (code) => fail(new QatLensError(`QC gradient shard stopped (exit code ${code})`, file, 'ESHARD')));
  }

  call<T extends ShardReply>(r: Unnumbered, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    let settle!: Omit<Pending, 'done'>;
    const done = new Promise<T>((resolve, reject) => (settle = { resolve: resolve as (m: ShardReply) => void, reject }));
    this.pending.set(id, { ...settle, done });
    this.thread.postMessage({ ...r, id }, transfer);
    return done;
  }

  /**
   * Waits for what is running, lets the thread release its engine, then ends it: a thread ended
   * inside an onnxruntime run aborts the whole process (onnxruntime-node throws into a dying thread).
   */
  async close(): Promise<void> {
    if (!this.dead) {
      await Promise.allSettled([...this.pending.values()].map((p) => p.done));
      await this.call({ op: 'close' }).catch(() => undefined);
    }
    this.dead ??= new QatLensError('QC gradient engine closed', undefined, 'ESHARD');
    await this.thread.terminate();
  }
}

/** Promise.all that, on a failure, still waits for the other shards: none is left inside a run. */
async function settled<T>(calls: Promise<T>[]): Promise<T[]> {
  const r = await Promise.allSettled(calls);
  const failed = r.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
  return r.map((x) => (x as PromiseFulfilledResult<T>).value);
}

/** Image counts of the slices: as even as whole images allow, no empty slice. */
export function sliceCounts(batch: number, shards: number): number[] {
  const n = Math.min(batch, shards);
  return Array.from({ length: n }, (_, k) => Math.floor(batch / n) + (k < batch % n ? 1 : 0));
}

/**
 * `shards` threads, each with a CPU engine of `threads` onnxruntime threads (given `shapes`, the
 * forward's value shapes, they skip probing them again). undefined when the thread script is
 * missing (an unbundled layout): the caller runs one engine.
 */
export async function createShardedEngine(
  model: onnx.ModelProto,
  file: string,
  o: GradEngineOptions,
  shards: number,
  threads: number,
  notes: string[],
  shapes?: Map<string, number[]>,
): Promise<GradEngine | undefined> {
  const init: ShardInit = { model: onnx.ModelProto.encode(model).finish(), file, options: { ...o, threads, memoryShare: 1 / shards }, shapes };
  const all: Shard[] = [];
  for (let k = 0; k < shards; k++) {
    const t = startThread(__dirname, 'gradShard.js', 'shardThread.ts', init);
    if (!t) {
      await Promise.all(all.map((s) => s.close()));
      return undefined;
    }
    all.push(new Shard(t, file));
  }
  let first: ShardReady;
  try {
    [first] = await Promise.all(all.map((s) => s.ready));
  } catch (err) {
    await Promise.all(all.map((s) => s.close()));
    throw err;
  }
  const size = o.imgsz!;
  const per = 3 * size[0] * size[1];
  // The kept forward's images (by memory, as the one-engine contract says) and its slices.
  let kept: { images: Float32Array; batch: number } | undefined;
  /** Each slice's own copy (a view would post its whole buffer), moved to its thread. */
  const slices = (images: Float32Array, counts: number[]) => {
    let s = 0;
    return counts.map((n) => images.slice(per * s, per * (s += n)));
  };
  return {
    device: `cpu (${shards} shards x ${threads} thread${threads === 1 ? '' : 's'})`,
    notes,
    size,
    keeps: first.keeps,
    heads: first.heads,
    async forward(images, batch, gamma, beta, keep = false) {
      checkImages(file, images, batch, size);
      const counts = sliceCounts(batch, shards);
      const parts = slices(images, counts);
      if (keep) kept = undefined;
      const outs = await settled(parts.map((p, k) => all[k].call<{ id: number; heads: Float32Array[] }>({ op: 'forward', images: p, batch: counts[k], gamma, beta, keep }, [p.buffer as ArrayBuffer])));
      if (keep) kept = { images, batch };
      // Heads are NCHW with the batch outermost: the slices' heads follow one another.
      return outs[0].heads.map((_, h) => {
        if (outs.length === 1) return outs[0].heads[h];
        const joined = new Float32Array(outs.reduce((n, r) => n + r.heads[h].length, 0));
        let at = 0;
        for (const r of outs) {
          joined.set(r.heads[h], at);
          at += r.heads[h].length;
        }
        return joined;
      });
    },
    async backward(images, batch, gamma, beta, dHeads) {
      checkImages(file, images, batch, size);
      checkDHeads(file, first.heads, batch, dHeads);
      const counts = sliceCounts(batch, shards);
      const useKept = kept !== undefined && kept.batch === batch && sameMemory(kept.images, images);
      kept = undefined;
      const parts = useKept ? undefined : slices(images, counts);
      let s = 0;
      const outs = await settled(
        counts.map((n, k) => {
          const d = dHeads.map((g) => g.slice((g.length / batch) * s, (g.length / batch) * (s + n)));
          s += n;
          const moved = [...d.map((x) => x.buffer as ArrayBuffer), ...(parts ? [parts[k].buffer as ArrayBuffer] : [])];
          return all[k].call<{ id: number; dGamma: Float32Array[]; dBeta: Float32Array[] }>({ op: 'backward', images: parts?.[k], batch: n, gamma, beta, dHeads: d }, moved);
        }),
      );
      const sum = (pick: (r: (typeof outs)[number]) => Float32Array[]) =>
        pick(outs[0]).map((_, i) => {
          const acc = Float32Array.from(pick(outs[0])[i]);
          for (const r of outs.slice(1)) {
            const x = pick(r)[i];
            for (let c = 0; c < acc.length; c++) acc[c] += x[c];
          }
          return acc;
        });
      return { dGamma: sum((r) => r.dGamma), dBeta: sum((r) => r.dBeta) };
    },
    async dispose() {
      kept = undefined;
      await Promise.all(all.map((s) => s.close()));
    },
  };
}
