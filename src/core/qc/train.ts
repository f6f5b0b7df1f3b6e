// QC training: per quantized layer and output channel, γ (init 1) and β (init 0) on the
// pre-activation, h <- γ ⊙ h + β, fitted by Adam on YOLOv5's detection loss over labelled
// calibration images. Everything else is frozen: integer weights, scales, activation quantizers
// (fake-quant passes gradients straight through, tfOps.roundSTE).
import * as tf from '@tensorflow/tfjs-core';
import { CancelledError } from '../errors';
import type { LabelledImage } from '../data/dataset';
import { letterboxInto } from '../data/letterbox';
import type { HeadSpec, QuantLayer } from './heads';
import type { TfGraph } from './tfGraph';
import { type Target, yoloLoss } from './yoloLoss';

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
  batch(indices: number[]): Promise<CalibBatch>;
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
    const rx = g.width / g.width0, ry = g.height / g.height0;
    const targets: number[][] = [];
    for (let k = 0; k < im.classes.length; k++) {
      const x1 = im.boxes[4 * k] * rx + g.padX, y1 = im.boxes[4 * k + 1] * ry + g.padY;
      const x2 = im.boxes[4 * k + 2] * rx + g.padX, y2 = im.boxes[4 * k + 3] * ry + g.padY;
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
    async batch(indices) {
      const out = new Float32Array(indices.length * per);
      const targets: Target[] = [];
      const items = await Promise.all(indices.map(load));
      items.forEach((e, b) => {
        out.set(e.data, b * per);
        for (const t of e.targets) targets.push([b, t[0], t[1], t[2], t[3], t[4]]);
      });
      return { images: out, targets };
    },
  };
}

export interface QcTrainOptions {
  steps: number;
  lr: number;
  batch: number;
  /** Seed of the image order (default 0). */
  seed?: number;
  signal?: AbortSignal;
  /** Called every `every` steps (default 5) and at the last step. */
  onProgress?: (step: number, loss: number) => void;
  every?: number;
}

export interface QcTimings { loadMs: number; forwardBackwardMs: number; optimizerMs: number; totalMs: number }

export interface QcFit {
  gamma: Map<string, Float32Array>;
  beta: Map<string, Float32Array>;
  /** Loss (YOLOv5's, × batch) at each step, before that step's update. */
  lossCurve: number[];
  /** Channels whose γ hit GAMMA_MIN at the end. */
  clampedChannels: number;
  timings: QcTimings;
}

/** The detection loss of a batch with the given γ/β hooks (no gradient). */
export function qcLoss(g: TfGraph, heads: HeadSpec, hooks: Map<string, (t: tf.Tensor) => tf.Tensor>, b: CalibBatch, batch: number, size: [number, number]): tf.Scalar {
  const x = tf.transpose(tf.tensor(b.images, [batch, 3, size[0], size[1]]), [0, 2, 3, 1]);
  const outs = g.run({ [g.inputs[0].name]: x }, { outputs: heads.outputs, hooks, keepNhwc: true, inputLayout: 'nhwc' });
  const p = heads.outputs.map((name) => {
    const t = outs[name]; // NHWC [b, ny, nx, na * no] -> [b, na, ny, nx, no]
    const [bs, ny, nx] = t.shape;
    return tf.transpose(tf.reshape(t, [bs, ny, nx, heads.na, heads.nc + 5]), [0, 3, 1, 2, 4]);
  });
  return yoloLoss(p, b.targets, { anchors: heads.anchors, strides: heads.strides, nc: heads.nc, imgsz: size[0] }).loss;
}

/** γ/β hooks for `layers` from variables (training) or fixed arrays (evaluation). */
export function affineHooks(layers: QuantLayer[], gamma: (l: QuantLayer) => tf.Tensor, beta: (l: QuantLayer) => tf.Tensor): Map<string, (t: tf.Tensor) => tf.Tensor> {
  // Conv outputs are NHWC and Gemm outputs [b, C]: the channel is the last axis either way.
  return new Map(layers.map((l) => [l.output, (t: tf.Tensor) => tf.add(tf.mul(t, gamma(l)), beta(l))]));
}

function shuffled(n: number, seed: number): number[] {
  let s = (seed * 2654435761 + 1) >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}

/** The images of each step: shuffled epochs (seeded), a new order whenever the next batch would run past the end. */
export function batchSchedule(count: number, batch: number, seed = 0): () => number[] {
  let order: number[] = [], pos = 0, epoch = 0;
  return () => {
    if (pos + batch > order.length) { order = shuffled(count, seed + epoch++); pos = 0; }
    pos += batch;
    return order.slice(pos - batch, pos);
  };
}

let runs = 0;

export async function trainQC(g: TfGraph, layers: QuantLayer[], heads: HeadSpec, src: CalibSource, o: QcTrainOptions): Promise<QcFit> {
  const t0 = performance.now();
  const timings: QcTimings = { loadMs: 0, forwardBackwardMs: 0, optimizerMs: 0, totalMs: 0 };
  // Inside tidy: the initial ones/zeros are freed, the variables survive.
  const run = ++runs;
  const mk = (n: number, v: number, name: string) => tf.tidy(() => tf.variable(tf.fill([n], v), true, name));
  const gv = new Map(layers.map((l) => [l.name, mk(l.channels, 1, `qc_gamma/${l.name}/${run}`)]));
  const bv = new Map(layers.map((l) => [l.name, mk(l.channels, 0, `qc_beta/${l.name}/${run}`)]));
  const vars = [...gv.values(), ...bv.values()];
  const opt = tf.train.adam(o.lr, 0.9, 0.999, 1e-8);
  const hooks = affineHooks(layers, (l) => gv.get(l.name)!, (l) => bv.get(l.name)!);
  const lossCurve: number[] = [];
  const batch = Math.min(o.batch, src.count);
  const next = batchSchedule(src.count, batch, o.seed);
  try {
    for (let step = 0; step < o.steps; step++) {
      if (o.signal?.aborted) throw new CancelledError();
      const tl = performance.now();
      const b = await src.batch(next());
      timings.loadMs += performance.now() - tl;
      const tf0 = performance.now();
      const { value, grads } = tf.variableGrads(() => qcLoss(g, heads, hooks, b, batch, src.size), vars);
      const loss = (await value.data())[0];
      timings.forwardBackwardMs += performance.now() - tf0;
      value.dispose();
      if (!Number.isFinite(loss)) throw new Error(`QC loss is ${loss} at step ${step + 1}: lower the learning rate`);
      const to = performance.now();
      opt.applyGradients(grads as tf.NamedTensorMap as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose(Object.values(grads));
      tf.tidy(() => { for (const v of gv.values()) v.assign(tf.maximum(v, GAMMA_MIN)); });
      await gv.values().next().value!.data();
      timings.optimizerMs += performance.now() - to;
      lossCurve.push(loss);
      if (o.onProgress && ((step + 1) % (o.every ?? 5) === 0 || step === 0 || step === o.steps - 1)) o.onProgress(step + 1, loss);
      // Give the event loop a turn so a cancel message can arrive between steps.
      await new Promise((r) => setImmediate(r));
    }
    const gamma = new Map<string, Float32Array>(), beta = new Map<string, Float32Array>();
    let clampedChannels = 0;
    for (const l of layers) {
      const gArr = (await gv.get(l.name)!.data()) as Float32Array;
      gamma.set(l.name, Float32Array.from(gArr));
      beta.set(l.name, Float32Array.from((await bv.get(l.name)!.data()) as Float32Array));
      clampedChannels += gArr.filter((x) => x <= GAMMA_MIN).length;
    }
    timings.totalMs = performance.now() - t0;
    return { gamma, beta, lossCurve, clampedChannels, timings };
  } finally {
    tf.dispose(vars);
    opt.dispose();
  }
}
