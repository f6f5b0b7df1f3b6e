// MaxPool's backward: the gradient goes to the FIRST maximum of each window in row-major order
// (PyTorch's and tfjs's choice), also with many ties (integer-valued inputs, as after quantization),
// in both forms the generator writes (CPU engine; GPU engines), both run here on the CPU.
import assert from 'node:assert/strict';
import test from 'node:test';
import { generatedVjp, node, relErr, uniform, type OpSpec } from '../helpers/opGrad';

/** Reference: scatter dy to the first maximum of each (padded) window. */
function maxPoolVjp(x: Float32Array, [c, h, w]: number[], k: number, s: number, p: number, dy: Float32Array): Float64Array {
  const ho = Math.floor((h + 2 * p - k) / s) + 1,
    wo = Math.floor((w + 2 * p - k) / s) + 1;
  const dx = new Float64Array(x.length);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        let best = -Infinity,
          at = -1;
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            const r = i * s - p + a,
              q = j * s - p + b;
            if (r < 0 || r >= h || q < 0 || q >= w) continue;
            const v = x[(ch * h + r) * w + q];
            if (v > best) {
              best = v;
              at = (ch * h + r) * w + q;
            }
          }
        dx[at] += dy[(ch * ho + i) * wo + j];
      }
  return dx;
}

for (const [k, s, p, item] of [
  [5, 1, 2, [3, 9, 8]],
  [2, 2, 0, [2, 8, 8]],
  [3, 2, 1, [2, 7, 9]],
] as [number, number, number, number[]][])
  for (const gpu of [false, true]) {
    test(`MaxPool k${k} s${s} p${p}, ${gpu ? 'GPU form (unfold + ArgMax)' : 'CPU form (Indices + ScatterElements)'}: gradient to the first maximum, ties included`, async () => {
      const spec: OpSpec = { item, nodes: [node('MaxPool', ['x'], ['y'], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] })] };
      const n = item.reduce((a, b) => a * b, 1);
      // Integers in 0..3: most windows hold several maxima.
      const x = uniform(n, 7, 0, 4).map(Math.floor);
      const ho = Math.floor((item[1] + 2 * p - k) / s) + 1,
        wo = Math.floor((item[2] + 2 * p - k) / s) + 1;
      const dy = uniform(item[0] * ho * wo, 11);
      const { dx, ops } = await generatedVjp(spec, x, dy, { gpu });
      const ref = maxPoolVjp(x, item, k, s, p, dy);
      assert.equal(ops.includes('ScatterElements'), !gpu);
      assert.equal(ops.includes('ArgMax'), gpu);
      const err = relErr(dx, ref);
      assert.ok(err < 1e-6, `relative error ${err}`);
    });
  }
