// The detection loss and its γ/β gradients on the tiny torch-made QDQ detector, for comparing
// tfjs backends with each other (wasm vs pure JS here, WebGPU vs pure JS in test/webgpu).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { findHeads, findQuantLayers } from '../src/core/qc/heads';
import { TfGraph } from '../src/core/qc/tfGraph';
import { affineHooks, qcLoss } from '../src/core/qc/train';

export function rand(shape: number[], seed: number): tf.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5), shape);
}

export interface LossAndGrads { loss: number; names: string[]; per: number[][] }

/** Loss and per-layer [dγ..., dβ...] on the backend active now, at γ = 1.1, β = 0.01. */
export async function tinyLossAndGrads(model = join(__dirname, 'fixtures', 'qc', 'tiny_qdq.onnx')): Promise<LossAndGrads> {
  const g = TfGraph.load(model);
  const layers = findQuantLayers(g), heads = await findHeads(g, [64, 64]);
  const px = tf.add(rand([2, 3, 64, 64], 9), 0.5);
  const images = (await px.data()) as Float32Array;
  px.dispose();
  const batch = { images, targets: [[0, 0, 0.3, 0.4, 0.2, 0.3], [0, 1, 0.7, 0.6, 0.4, 0.3], [1, 1, 0.5, 0.5, 0.6, 0.5]] as [number, number, number, number, number, number][] };
  const gv = layers.map((l) => tf.variable(tf.fill([l.channels], 1.1)));
  const bv = layers.map((l) => tf.variable(tf.fill([l.channels], 0.01)));
  const hooks = affineHooks(layers, (l) => gv[layers.indexOf(l)], (l) => bv[layers.indexOf(l)]);
  const { value, grads } = tf.variableGrads(() => qcLoss(g, heads, hooks, batch, 2, [64, 64]), [...gv, ...bv]);
  // Asynchronous reads: WebGPU's synchronous ones need OffscreenCanvas, which Node lacks.
  const loss = (await value.data())[0];
  const per: number[][] = [];
  for (let i = 0; i < layers.length; i++) per.push([...(await grads[gv[i].name].data()), ...(await grads[bv[i].name].data())]);
  tf.dispose([value, ...Object.values(grads), ...gv, ...bv]);
  g.dispose();
  return { loss, names: layers.map((l) => l.name), per };
}

/**
 * Same loss, and every layer's gradients equal up to summation order. MaxPool ties (many after 4-bit
 * quantization) go to the first maximum on every backend (tfOps.maxPoolFirst), so all layers must match.
 */
export function assertSameLossAndGrads(ours: LossAndGrads, ref: LossAndGrads): void {
  assert.ok(Math.abs(ours.loss - ref.loss) <= 1e-6 * ref.loss, `loss ${ours.loss} vs ${ref.loss}`);
  ref.names.forEach((name, i) => {
    const a = ours.per[i], b = ref.per[i];
    const big = Math.max(...b.map(Math.abs));
    const max = Math.max(...a.map((v, k) => Math.abs(v - b[k])));
    assert.ok(max <= 2e-3 * big + 1e-9, `${name}: max difference ${max} (largest ${big})`);
  });
}
