// The fast input gradients QC uses on the wasm backend equal tfjs's own gradients: a convolution's
// dx computed as a forward convolution (stride, padding, depthwise), and the 3-kernel clip gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/core/qc/backend';
import { join } from 'node:path';
import { clipGrad, convFrozen } from '../src/core/qc/tfOps';
import { TfGraph } from '../src/core/qc/tfGraph';
import { findHeads, findQuantLayers } from '../src/core/qc/heads';
import { affineHooks, qcLoss } from '../src/core/qc/train';

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

function rand(shape: number[], seed: number): tf.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5), shape);
}

const cases: { k: number; s: number; p: [number, number, number, number]; hw: number; dw?: boolean }[] = [
  { k: 3, s: 1, p: [1, 1, 1, 1], hw: 9 },
  { k: 3, s: 2, p: [1, 1, 1, 1], hw: 10 },
  { k: 3, s: 2, p: [1, 1, 1, 1], hw: 9 },
  { k: 6, s: 2, p: [2, 2, 2, 2], hw: 12 }, // YOLOv5's stem
  { k: 1, s: 1, p: [0, 0, 0, 0], hw: 5 },
  { k: 5, s: 1, p: [2, 2, 2, 2], hw: 7 },
  { k: 3, s: 2, p: [0, 0, 1, 1], hw: 8 }, // asymmetric
  { k: 3, s: 1, p: [1, 1, 1, 1], hw: 6, dw: true },
  { k: 3, s: 2, p: [1, 1, 1, 1], hw: 7, dw: true },
];

for (const c of cases) {
  test(`conv dx as a forward conv: k${c.k} s${c.s} pads ${c.p} ${c.hw}x${c.hw}${c.dw ? ' depthwise' : ''}`, async () => {
    await selectBackend('cpu');
    const ci = 3, co = c.dw ? 3 : 4;
    const x = rand([2, c.hw, c.hw, ci], 1);
    const f = rand(c.dw ? [c.k, c.k, ci, 1] : [c.k, c.k, ci, co], 2) as tf.Tensor4D;
    const pad: Pad4 = [[0, 0], [c.p[0], c.p[2]], [c.p[1], c.p[3]], [0, 0]];
    const ref = (xx: tf.Tensor) => (c.dw ? tf.depthwiseConv2d(xx as tf.Tensor4D, f, c.s, pad) : tf.conv2d(xx as tf.Tensor4D, f, c.s, pad));
    const rot = () => (c.dw ? tf.reverse(f, [0, 1]) : tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2])) as tf.Tensor4D;
    const ours = (xx: tf.Tensor) => convFrozen(xx as tf.Tensor4D, f, [c.s, c.s], pad, !!c.dw, rot);
    // Reference: tfjs's own gradient kernels on the pure-JS backend (wasm lacks the depthwise one).
    await tf.setBackend('cpu');
    const yr = ref(x);
    const w = rand(yr.shape, 3);
    const gr = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(ref(xx), w)))(x).dataSync();
    await selectBackend('cpu');
    const yo = ours(x);
    assert.deepEqual(yo.shape, yr.shape);
    const go = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(ours(xx), w)))(x).dataSync();
    let max = 0;
    for (let i = 0; i < gr.length; i++) max = Math.max(max, Math.abs(gr[i] - go[i]));
    assert.ok(max < 1e-5, `max |dx difference| ${max}`);
    assert.ok(Math.max(...Array.from(gr).map(Math.abs)) > 0.01);
  });
}

test('clip gradient passes dy inside the range, boundaries included, and 0 outside', async () => {
  await selectBackend('cpu');
  const x = tf.tensor1d([-9, -8, -7.5, 0, 6.9, 7, 7.2, 100]);
  const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(clipGrad(xx, -8, 7), tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [0, 2, 3, 4, 5, 6, 0, 0]);
  assert.deepEqual(Array.from(clipGrad(x, -8, 7).dataSync()), [-8, -8, -7.5, 0, 6.900000095367432, 7, 7, 7]);
});

test('γ/β gradients of the detection loss: wasm fast path equals the pure-JS backend', async () => {
  const b = await selectBackend('cpu');
  if (b.name !== 'wasm') { console.log('# SKIP: wasm backend not available here'); return; }
  const g = TfGraph.load(join(__dirname, 'fixtures', 'qc', 'tiny_qdq.onnx'));
  const layers = findQuantLayers(g), heads = await findHeads(g, [64, 64]);
  const images = tf.add(rand([2, 3, 64, 64], 9), 0.5).dataSync() as Float32Array;
  const batch = { images, targets: [[0, 0, 0.3, 0.4, 0.2, 0.3], [0, 1, 0.7, 0.6, 0.4, 0.3], [1, 1, 0.5, 0.5, 0.6, 0.5]] as [number, number, number, number, number, number][] };
  const run = () => {
    const gv = layers.map((l) => tf.variable(tf.fill([l.channels], 1.1)));
    const bv = layers.map((l) => tf.variable(tf.fill([l.channels], 0.01)));
    const hooks = affineHooks(layers, (l) => gv[layers.indexOf(l)], (l) => bv[layers.indexOf(l)]);
    const { value, grads } = tf.variableGrads(() => qcLoss(g, heads, hooks, batch, 2, [64, 64]), [...gv, ...bv]);
    const loss = value.dataSync()[0];
    const per = layers.map((_, i) => [...Array.from(grads[gv[i].name].dataSync()), ...Array.from(grads[bv[i].name].dataSync())]);
    tf.dispose([value, ...Object.values(grads), ...gv, ...bv]);
    return { loss, per };
  };
  const fast = run();
  await tf.setBackend('cpu');
  const ref = run();
  await selectBackend('cpu');
  assert.ok(Math.abs(fast.loss - ref.loss) <= 1e-6 * ref.loss);
  // MaxPool ties (many after 4-bit quantization) go to the first maximum on every backend
  // (tfOps.maxPoolFirst), so all layers must match, up to summation order (XNNPACK vs JS loops).
  layers.forEach((l, i) => {
    const a = fast.per[i] as number[], b = ref.per[i] as number[];
    const big = Math.max(...b.map(Math.abs));
    const max = Math.max(...a.map((v, k) => Math.abs(v - b[k])));
    assert.ok(max <= 2e-3 * big + 1e-9, `${l.name}: max difference ${max} (largest ${big})`);
  });
  g.dispose();
});
