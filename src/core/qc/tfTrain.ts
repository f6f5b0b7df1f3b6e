// QC's former training loop on TensorFlow.js (the graph executed by tfGraph.ts), kept only until the
// benchmark has measured it against the onnxruntime loop (train.ts) on the same work.
import * as tf from '@tensorflow/tfjs-core';
import { CancelledError } from '../errors';
import type { HeadSpec, QuantLayer } from './heads';
import type { TfGraph } from './tfGraph';
import { peakRss } from './memory';
import { batchSchedule, type CalibBatch, type CalibSource, GAMMA_MIN, type QcFit, type QcTimings, type QcTrainOptions } from './train';
import { yoloLoss } from './yoloLoss';

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

let runs = 0;

export async function trainQCTf(g: TfGraph, layers: QuantLayer[], heads: HeadSpec, src: CalibSource, o: QcTrainOptions): Promise<QcFit> {
  const t0 = performance.now();
  const timings: QcTimings = { loadMs: 0, forwardMs: 0, lossMs: 0, backwardMs: 0, forwardBackwardMs: 0, optimizerMs: 0, totalMs: 0, cpuMs: 0 };
  // Inside tidy: the initial ones/zeros are freed, the variables survive.
  const run = ++runs;
  const mk = (n: number, v: number, name: string) => tf.tidy(() => tf.variable(tf.fill([n], v), true, name));
  const gv = new Map(layers.map((l) => [l.name, mk(l.channels, 1, `qc_gamma/${l.name}/${run}`)]));
  const bv = new Map(layers.map((l) => [l.name, mk(l.channels, 0, `qc_beta/${l.name}/${run}`)]));
  const vars = [...gv.values(), ...bv.values()];
  const opt = tf.train.adam(o.lr, 0.9, 0.999, 1e-8);
  const hooks = affineHooks(layers, (l) => gv.get(l.name)!, (l) => bv.get(l.name)!);
  const lossCurve: number[] = [];
  const stepMs: number[] = [], stepCpuMs: number[] = [];
  const batch = Math.min(o.batch, src.count);
  const next = batchSchedule(src.count, batch, o.seed);
  try {
    for (let step = 0; step < o.steps; step++) {
      if (o.signal?.aborted) throw new CancelledError();
      const tl = performance.now();
      const b = await src.batch(next());
      timings.loadMs += performance.now() - tl;
      const tf0 = performance.now(), c0 = process.cpuUsage();
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
      stepMs.push(performance.now() - tf0);
      const cu = process.cpuUsage(c0);
      stepCpuMs.push((cu.user + cu.system) / 1000);
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
    return { gamma, beta, lossCurve, clampedChannels, timings, microBatch: batch, peakRssBytes: peakRss(), stepMs, stepCpuMs };
  } finally {
    tf.dispose(vars);
    opt.dispose();
  }
}
