// QC training: per quantized layer and output channel, γ (init 1) and β (init 0) on the
// pre-activation, h <- γ ⊙ h + β, fitted by Adam on the model family's detection loss over labelled
// calibration images. Everything else is frozen: integer weights, scales, activation quantizers
// (fake quantization passes gradients straight through, src/core/train/grad/qdq.ts).
//
// A step: the batch is split into micro-batches; each goes forward on the engine and the heads are
// joined along the batch axis; the loss (and dLoss/dHeads) is computed on the WHOLE batch, so its
// means are the full batch's; each micro-batch then goes backward with its slice of dLoss/dHeads and
// the dγ/dβ are summed (the first micro-batch's backward uses the values its forward kept, the
// others recompute them: src/core/train/engine.ts). The gradient is the full-batch gradient whatever the micro-batch, which is
// chosen from the memory the first step took and the memory free, so no batch size fails for memory.
import { QatLensError, CancelledError } from '../errors';
import type { LabelledImage } from '../data/dataset';
import { letterboxInto } from '../data/letterbox';
import type { GradEngine } from '../train/engine';
import { Rng } from '../rng';
import { Adam } from './adam';
import { type AugmentOptions, flipLeftRight, hsvJitter, type ImageAugment, planAugment } from './augment';
import type { HeadSpec, QuantLayer } from './heads';
import type { DetectionLoss, HeadTensor, Target } from './loss/types';
import { availableBytes, chooseMicroBatch, currentRss, MB, peakRss, resetPeakRss } from './memory';

/** γ is kept at or above this so it can fold into a (positive) dequantization scale. */
export const GAMMA_MIN = 1e-3;

export interface CalibBatch {
  /** NCHW RGB/255 letterboxed images, batch x 3 x H x W. */
  images: Float32Array;
  targets: Target[];
}

export interface CalibSource {
  count: number;
  size: [h: number, w: number];
  /** The images at `indices`, each augmented as `aug[k]` says (a mirror moves its labels too). */
  batch(indices: number[], aug?: ImageAugment[]): Promise<CalibBatch>;
}

/**
 * Labelled images letterboxed like YOLOv5's loader (the data set's letterbox code); labels become
 * normalised xywh on the letterboxed canvas. Decoded images are kept (12·H·W bytes each) up to
 * `cacheBytes` so later epochs do not decode again.
 */
export function calibSource(images: LabelledImage[], size: [number, number], cacheBytes = 1.5e9): CalibSource {
  const [H, W] = size;
  const per = 3 * H * W;
  const cache = new Map<number, { data: Float32Array; targets: number[][] }>();
  const load = async (i: number) => {
    const hit = cache.get(i);
    if (hit) return hit;
    const im = images[i];
    const data = new Float32Array(per);
    const g = await letterboxInto(im.file, W, H, data, 0);
    const rx = g.width / g.width0,
      ry = g.height / g.height0;
    const targets: number[][] = [];
    for (let k = 0; k < im.classes.length; k++) {
      const x1 = im.boxes[4 * k] * rx + g.padX,
        y1 = im.boxes[4 * k + 1] * ry + g.padY;
      const x2 = im.boxes[4 * k + 2] * rx + g.padX,
        y2 = im.boxes[4 * k + 3] * ry + g.padY;
      if (x2 - x1 <= 0 || y2 - y1 <= 0) continue;
      targets.push([im.classes[k], (x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H]);
    }
    const e = { data, targets };
    if ((cache.size + 1) * per * 4 <= cacheBytes) cache.set(i, e);
    return e;
  };
  return {
    count: images.length,
    size,
    async batch(indices, aug) {
      const out = new Float32Array(indices.length * per);
      const targets: Target[] = [];
      const items = await Promise.all(indices.map(load));
      items.forEach((e, b) => {
        out.set(e.data, b * per);
        const a = aug?.[b];
        if (a?.hsv) hsvJitter(out, b * per, H, W, a.hsv);
        const f = a?.flip === true;
        if (f) flipLeftRight(out, b * per, H, W);
        for (const t of e.targets) targets.push([b, t[0], f ? 1 - t[1] : t[1], t[2], t[3], t[4]]);
      });
      return { images: out, targets };
    },
  };
}

function shuffled(n: number, seed: number): number[] {
  let s = (seed * 2654435761 + 1) >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The images of each step: shuffled epochs (seeded), a new order whenever the next batch would run past the end. */
export function batchSchedule(count: number, batch: number, seed = 0): () => number[] {
  let order: number[] = [],
    pos = 0,
    epoch = 0;
  return () => {
    if (pos + batch > order.length) {
      order = shuffled(count, seed + epoch++);
      pos = 0;
    }
    pos += batch;
    return order.slice(pos - batch, pos);
  };
}

/** Learning rate at step t of T (0-based): constant, or YOLOv5's cosine one-cycle from lr down to lr·0.01. */
export type LrSchedule = 'constant' | 'cosine';
export function lrAt(schedule: LrSchedule, lr: number, t: number, T: number): number {
  if (schedule === 'constant' || T <= 1) return lr;
  return lr * (((1 - Math.cos((Math.PI * t) / (T - 1))) / 2) * (0.01 - 1) + 1);
}

/** A score of γ/β on held-out images (higher is better), e.g. mAP@.5:.95 of the folded model. */
export interface HeldOutScore {
  map: number;
  map50: number;
}

export interface QcTrainOptions {
  steps: number;
  lr: number;
  /** Learning-rate schedule over the steps (default constant). */
  schedule?: LrSchedule;
  /**
   * Step selection: every `every` steps (and before the first, and after the last) score γ/β on
   * held-out images; the γ/β returned are those of the best score (mAP@.5:.95), not the last.
   */
  select?: { every: number; score: (gamma: Map<string, Float32Array>, beta: Map<string, Float32Array>, step: number) => Promise<HeldOutScore> };
  batch: number;
  /** Images per forward/backward (default: chosen from the first step's memory and the memory free). */
  microBatch?: number;
  /** Seed of the image order and of the augmentation (default 0). */
  seed?: number;
  /** YOLOv5's augmentations of the training images (default none). */
  augment?: AugmentOptions;
  signal?: AbortSignal;
  /** Called every `every` steps (default 5) and at the first and last step. */
  onProgress?: (step: number, loss: number) => void;
  every?: number;
  /** Called once the micro-batch is chosen (after the first step), with what it was chosen from. */
  onMicroBatch?: (micro: number, why: string) => void;
}

export interface QcTimings {
  loadMs: number;
  forwardMs: number;
  lossMs: number;
  backwardMs: number;
  /** forward + loss + backward. */
  forwardBackwardMs: number;
  optimizerMs: number;
  totalMs: number;
  /** CPU time of this process during the loop (all threads): cpuMs / totalMs is how many cores were busy. */
  cpuMs: number;
}

export interface QcFit {
  gamma: Map<string, Float32Array>;
  beta: Map<string, Float32Array>;
  /** Loss (the family's training scalar; YOLOv5: × batch) at each step, before that step's update. */
  lossCurve: number[];
  /** Channels whose γ hit GAMMA_MIN at the end. */
  clampedChannels: number;
  timings: QcTimings;
  /** Images per forward/backward after the first step. */
  microBatch: number;
  /** Peak resident memory of the process during training (bytes). */
  peakRssBytes: number;
  /** Per step: wall and CPU milliseconds of the gradient and the update (image loading excluded). */
  stepMs: number[];
  stepCpuMs: number[];
  /** With `select`: the held-out score at each scored step (0 = before training), and the step kept. */
  heldOut?: { step: number; map: number; map50: number }[];
  keptStep?: number;
}

export interface QcModel {
  engine: GradEngine;
  loss: DetectionLoss;
  layers: QuantLayer[];
  heads: HeadSpec;
}

/** The first step runs micro-batches of this size to measure the memory an image takes. */
const PROBE_MICRO = 2;

const isOutOfMemory = (err: unknown) => err instanceof RangeError || /bad_alloc|out of memory|Failed to allocate|allocat/i.test(String((err as Error)?.message ?? err));

/** One step's loss and summed dγ/dβ over micro-batches of `micro` images (see the header). */
export async function batchGradient(
  m: QcModel,
  b: CalibBatch,
  batch: number,
  micro: number,
  gamma: Float32Array[],
  beta: Float32Array[],
  size: [number, number],
  t: QcTimings,
  signal?: AbortSignal,
): Promise<{ loss: number; parts: Record<string, number>; dGamma: Float32Array[]; dBeta: Float32Array[] }> {
  const per = 3 * size[0] * size[1];
  const chunks: [number, number][] = [];
  for (let s = 0; s < batch; s += micro) chunks.push([s, Math.min(batch, s + micro)]);
  const slice = (s: number, e: number) => b.images.subarray(s * per, e * per);
  // Forward each micro-batch; join the heads along the batch axis (the outermost one).
  let tt = performance.now();
  const parts: Float32Array[][] = [];
  // The first micro-batch's forward keeps what its backward reads (CPU engine: no recompute); the
  // others' backwards recompute their forward, so what is held stays one micro-batch's worth.
  for (const [s, e] of chunks) {
    if (signal?.aborted) throw new CancelledError();
    parts.push(await m.engine.forward(slice(s, e), e - s, gamma, beta, s === 0));
  }
  const heads: HeadTensor[] = m.heads.outputs.map((_, h) => {
    const data = parts.length === 1 ? parts[0][h] : new Float32Array(parts.reduce((n, p) => n + p[h].length, 0));
    if (parts.length > 1) {
      let o = 0;
      for (const p of parts) {
        data.set(p[h], o);
        o += p[h].length;
      }
    }
    const ny = size[0] / m.heads.strides[h],
      nx = size[1] / m.heads.strides[h];
    return { data, shape: [batch, data.length / (batch * ny * nx), ny, nx] };
  });
  parts.length = 0;
  t.forwardMs += performance.now() - tt;
  tt = performance.now();
  const lv = m.loss.compute(heads, b.targets);
  t.lossMs += performance.now() - tt;
  tt = performance.now();
  const dGamma = gamma.map((g) => new Float64Array(g.length)),
    dBeta = beta.map((x) => new Float64Array(x.length));
  for (const [s, e] of chunks) {
    if (signal?.aborted) throw new CancelledError();
    const dHeads = lv.grads.map((g) => {
      const n = g.length / batch;
      return g.subarray(s * n, e * n);
    });
    const r = await m.engine.backward(slice(s, e), e - s, gamma, beta, dHeads);
    r.dGamma.forEach((d, i) => {
      const acc = dGamma[i];
      for (let k = 0; k < d.length; k++) acc[k] += d[k];
    });
    r.dBeta.forEach((d, i) => {
      const acc = dBeta[i];
      for (let k = 0; k < d.length; k++) acc[k] += d[k];
    });
  }
  t.backwardMs += performance.now() - tt;
  return { loss: lv.loss, parts: lv.parts, dGamma: dGamma.map((d) => Float32Array.from(d)), dBeta: dBeta.map((d) => Float32Array.from(d)) };
}

export async function trainQC(m: QcModel, src: CalibSource, o: QcTrainOptions): Promise<QcFit> {
  const t0 = performance.now(),
    c0 = process.cpuUsage();
  const timings: QcTimings = { loadMs: 0, forwardMs: 0, lossMs: 0, backwardMs: 0, forwardBackwardMs: 0, optimizerMs: 0, totalMs: 0, cpuMs: 0 };
  const { layers } = m;
  const gamma = layers.map((l) => new Float32Array(l.channels).fill(1));
  const beta = layers.map((l) => new Float32Array(l.channels));
  const opt = new Adam(
    [...gamma, ...beta].map((a) => a.length),
    { lr: o.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  );
  const lossCurve: number[] = [];
  const batch = Math.min(o.batch, src.count);
  const next = batchSchedule(src.count, batch, o.seed);
  const augRng = new Rng(o.seed ?? 0, 0x61756720); // its own stream: the image order does not depend on it
  let micro = Math.min(batch, o.microBatch ?? PROBE_MICRO);
  let peak = 0;
  const stepMs: number[] = [],
    stepCpuMs: number[] = [];
  const asMaps = (g: Float32Array[], b: Float32Array[]) => [new Map(layers.map((l, i) => [l.name, g[i]])), new Map(layers.map((l, i) => [l.name, b[i]]))] as const;
  const heldOut: { step: number; map: number; map50: number }[] = [];
  let best: { step: number; map: number; gamma: Float32Array[]; beta: Float32Array[] } | undefined;
  const score = async (step: number) => {
    if (!o.select) return;
    const r = await o.select.score(...asMaps(gamma, beta), step);
    heldOut.push({ step, ...r });
    if (!best || r.map > best.map) best = { step, map: r.map, gamma: gamma.map((a) => a.slice()), beta: beta.map((a) => a.slice()) };
  };
  await score(0);
  for (let step = 0; step < o.steps; step++) {
    if (o.signal?.aborted) throw new CancelledError();
    let tt = performance.now();
    const indices = next();
    const b = await src.batch(indices, planAugment(indices.length, o.augment ?? {}, augRng));
    timings.loadMs += performance.now() - tt;
    const ws = performance.now(),
      cs = process.cpuUsage();
    const measure = step === 0 && o.microBatch === undefined && micro < batch;
    const base = currentRss();
    if (measure) resetPeakRss();
    let g;
    try {
      g = await batchGradient(m, b, batch, micro, gamma, beta, src.size, timings, o.signal);
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
      throw new QatLensError(
        `out of memory in a QC step of ${batch} images at micro-batch ${micro} (peak ${(peakRss() / MB).toFixed(0)} MB, ${(availableBytes() / MB).toFixed(0)} MB free now): lower the micro-batch (--micro-batch) or the batch (--batch)`,
        undefined,
        'ENOMEM',
      );
    }
    peak = Math.max(peak, peakRss());
    if (measure) {
      // Upper bound per image: the step's whole growth (arenas, heads of the full batch) over `micro` images.
      const grown = Math.max(0, peakRss() - base);
      const perImage = grown / micro,
        free = availableBytes();
      const chosen = chooseMicroBatch(batch, perImage, free, grown);
      o.onMicroBatch?.(chosen, `first step: ${(perImage / MB).toFixed(0)} MB per image at micro-batch ${micro}, ${(free / MB).toFixed(0)} MB free`);
      micro = chosen;
    } else if (step === 0) o.onMicroBatch?.(micro, o.microBatch === undefined ? 'the whole batch (it fits in the first micro-batch)' : 'as given');
    if (!Number.isFinite(g.loss)) throw new QatLensError(`QC loss is ${g.loss} at step ${step + 1}: lower the learning rate`, undefined, 'ENOTFINITE');
    tt = performance.now();
    opt.step([...gamma, ...beta], [...g.dGamma, ...g.dBeta], lrAt(o.schedule ?? 'constant', o.lr, step, o.steps));
    for (const a of gamma) for (let k = 0; k < a.length; k++) if (a[k] < GAMMA_MIN) a[k] = GAMMA_MIN;
    timings.optimizerMs += performance.now() - tt;
    stepMs.push(performance.now() - ws);
    const cu = process.cpuUsage(cs);
    stepCpuMs.push((cu.user + cu.system) / 1000);
    lossCurve.push(g.loss);
    if (o.onProgress && ((step + 1) % (o.every ?? 5) === 0 || step === 0 || step === o.steps - 1)) o.onProgress(step + 1, g.loss);
    if (o.select && ((step + 1) % o.select.every === 0 || step === o.steps - 1)) await score(step + 1);
    // Give the event loop a turn so a cancel message can arrive between steps.
    await new Promise((r) => setImmediate(r));
  }
  if (best)
    best.gamma.forEach((a, i) => {
      gamma[i].set(a);
      beta[i].set(best!.beta[i]);
    });
  let clampedChannels = 0;
  for (const a of gamma) clampedChannels += a.filter((x) => x <= GAMMA_MIN).length;
  timings.totalMs = performance.now() - t0;
  timings.forwardBackwardMs = timings.forwardMs + timings.lossMs + timings.backwardMs;
  const cu = process.cpuUsage(c0);
  timings.cpuMs = (cu.user + cu.system) / 1000;
  return {
    gamma: new Map(layers.map((l, i) => [l.name, gamma[i]])),
    beta: new Map(layers.map((l, i) => [l.name, beta[i]])),
    lossCurve,
    clampedChannels,
    timings,
    microBatch: micro,
    peakRssBytes: Math.max(peak, peakRss()),
    stepMs,
    stepCpuMs,
    ...(o.select ? { heldOut, keptStep: best?.step } : {}),
  };
}
