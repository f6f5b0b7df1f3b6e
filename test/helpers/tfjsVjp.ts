// Reference γ/β gradients from the tfjs executor (qc/tfGraph.ts + train.ts's affineHooks): the vjp of
// sum(heads · dHeads) with respect to γ and β, for comparing the onnxruntime gradient engine with.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { findHeads, findQuantLayers, type QuantLayer } from '../../src/core/qc/heads';
import { TfGraph } from '../../src/core/qc/tfGraph';
import { affineHooks } from '../../src/core/qc/train';

/** Deterministic pseudo-random numbers in [-0.5, 0.5). */
export function lcg(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5);
}

export interface TrainCase {
  file: string;
  layers: QuantLayer[];
  heads: string[];
  size: [number, number];
  batch: number;
  images: Float32Array;
  gamma: Float32Array[];
  beta: Float32Array[];
  /** Head shapes [batch, C, ny, nx] and random dHeads. */
  headShapes: number[][];
  dHeads: Float32Array[];
}

/** A case on a model: images in [0, 1), γ = 1 + 0.2·u, β = 0.05·u, dHeads = u (u uniform in ±0.5). */
export async function makeCase(file: string, size: [number, number], batch: number, seed = 1): Promise<TrainCase> {
  await tf.setBackend('cpu');
  const g = TfGraph.load(file);
  const layers = findQuantLayers(g);
  const heads = (await findHeads(g, size)).outputs;
  const images = lcg(batch * 3 * size[0] * size[1], seed).map((v) => v + 0.5);
  const gamma = layers.map((l, i) => lcg(l.channels, seed + 100 + i).map((v) => 1 + 0.2 * v));
  const beta = layers.map((l, i) => lcg(l.channels, seed + 900 + i).map((v) => 0.05 * v));
  const outs = tf.tidy(() => g.run({ [g.inputs[0].name]: tf.zeros([batch, 3, size[0], size[1]]) }, { outputs: heads }));
  const headShapes = heads.map((h) => outs[h].shape);
  tf.dispose(Object.values(outs));
  g.dispose();
  const dHeads = headShapes.map((s, i) => lcg(s.reduce((a, c) => a * c, 1), seed + 5000 + i));
  return { file, layers, heads, size, batch, images, gamma, beta, headShapes, dHeads };
}

/** tfjs heads (NCHW) under γ/β and the vjp of sum(heads · dHeads) w.r.t. γ and β. */
export async function tfjsVjp(c: TrainCase): Promise<{ heads: Float32Array[]; dGamma: Float32Array[]; dBeta: Float32Array[] }> {
  await tf.setBackend('cpu');
  const g = TfGraph.load(c.file);
  const gv = c.layers.map((l, i) => tf.variable(tf.tensor1d(c.gamma[i])));
  const bv = c.layers.map((l, i) => tf.variable(tf.tensor1d(c.beta[i])));
  const hooks = affineHooks(c.layers, (l) => gv[c.layers.indexOf(l)], (l) => bv[c.layers.indexOf(l)]);
  const x = tf.tensor(c.images, [c.batch, 3, c.size[0], c.size[1]]);
  const dh = c.dHeads.map((d, i) => tf.tensor(d, c.headShapes[i]));
  const heads: Float32Array[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const outs = g.run({ [g.inputs[0].name]: x }, { outputs: c.heads, hooks });
    c.heads.forEach((h) => heads.push(outs[h].dataSync() as Float32Array));
    return tf.addN(c.heads.map((h, i) => tf.sum(tf.mul(outs[h], dh[i])))) as tf.Scalar;
  }, [...gv, ...bv]);
  const dGamma = gv.map((v) => grads[v.name].dataSync() as Float32Array);
  const dBeta = bv.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, x, ...dh, ...gv, ...bv, ...Object.values(grads)]);
  g.dispose();
  return { heads, dGamma, dBeta };
}

/** Largest |a − b| over the largest |b| of each layer, and the worst layer. */
export function maxRelDiff(a: Float32Array[], b: Float32Array[]): { worst: number; abs: number; at: number } {
  let worst = 0, abs = 0, at = -1;
  b.forEach((ref, i) => {
    const big = Math.max(...Array.from(ref, Math.abs), 1e-12);
    let m = 0;
    for (let k = 0; k < ref.length; k++) m = Math.max(m, Math.abs(a[i][k] - ref[k]));
    if (m / big > worst) { worst = m / big; at = i; }
    abs = Math.max(abs, m);
  });
  return { worst, abs, at };
}
