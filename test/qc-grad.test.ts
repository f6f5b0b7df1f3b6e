// The fast input gradients QC uses on the wasm backend equal tfjs's own gradients: a convolution's
// dx computed as a forward convolution (stride, padding, depthwise), and the 3-kernel clip gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/core/qc/backend';
import { clipGrad, convFrozen, eqMask } from '../src/core/qc/tfOps';
import { assertSameLossAndGrads, rand, tinyLossAndGrads } from './qcGradCase';

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];


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
  const fast = await tinyLossAndGrads();
  await tf.setBackend('cpu');
  const ref = await tinyLossAndGrads();
  await selectBackend('cpu');
  assertSameLossAndGrads(fast, ref);
});

test('eqMask: the float mask of a == b, the same on wasm (1 - step|a - b|) as Equal + Cast', async () => {
  const b = await selectBackend('cpu');
  const a = tf.tensor1d([0, -0, 7, 7.000000476837158, -8, 1e-45, -1e-45, 3e38, -3e38, 0.5]);
  const c = tf.tensor1d([0, 0, 7, 7, -8, 0, 0, 3e38, 3e38, -0.5]);
  const expect = [1, 1, 1, 0, 1, 0, 0, 1, 0, 0];
  assert.deepEqual(Array.from(await eqMask(a, c).data()), expect, b.name);
  await tf.setBackend('cpu');
  assert.deepEqual(Array.from(await eqMask(a, c).data()), expect, 'cpu');
  await selectBackend('cpu');
});
