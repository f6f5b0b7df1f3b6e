// Activation fake-quant (QuantizeLinear -> Clip -> DequantizeLinear) backward: straight-through,
// masked where round(x / s_in) + z falls outside the clipped integer range (bounds included), times
// s_out / s_in — the rule qc/tfOps.ts implements.
import assert from 'node:assert/strict';
import test from 'node:test';
import { DataType, makeTensor } from '../../src/core/onnx/proto';
import { floats, generatedVjp, node, relErr, uniform, type OpSpec } from '../helpers/opGrad';

function qdqSpec(s1: number, z1: number, s2: number, z2: number, lo: number, hi: number): OpSpec {
  const u8 = (name: string, v: number) => makeTensor(name, [], [v], DataType.UINT8);
  return {
    item: [2, 4, 5],
    nodes: [node('QuantizeLinear', ['x', 's1', 'z1'], ['q']), node('Clip', ['q', 'lo', 'hi'], ['qc']), node('DequantizeLinear', ['qc', 's2', 'z2'], ['y'])],
    inits: [floats('s1', [], [s1]), u8('z1', z1), floats('s2', [], [s2]), u8('z2', z2), u8('lo', lo), u8('hi', hi)],
  };
}

/** Reference in float32 steps: r = roundHalfEven(x / s1) + z1 (float32 division), pass where lo <= r <= hi. */
function reference(x: Float32Array, dy: Float32Array, s1: number, z1: number, s2: number, lo: number, hi: number): Float64Array {
  return Float64Array.from(x, (v, i) => {
    const t = Math.fround(v / Math.fround(s1));
    let r = Math.round(t);
    if (Math.abs(t % 1) === 0.5 && r % 2 !== 0) r -= 1;
    r += z1;
    return r >= lo && r <= hi ? (dy[i] * Math.fround(s2)) / Math.fround(s1) : 0;
  });
}

for (const [name, s1, z1, s2, z2, lo, hi] of [
  ['4-bit unsigned, zero point 1 (as the example)', 0.25, 1, 0.25, 1, 0, 15],
  ['different scales and zero points in Q and DQ', 0.2, 3, 0.3, 2, 1, 12],
] as [string, number, number, number, number, number, number][]) {
  test(`fake-quant backward: ${name}`, async () => {
    const spec = qdqSpec(s1, z1, s2, z2, lo, hi);
    // x spans the clip range and beyond; multiples of s1 / 2 land on bounds and ties exactly.
    const x = uniform(40, 71, -1.5 * s1 * (z1 + 2), s1 * (hi - z1 + 2)).map((v, i) => (i % 4 === 0 ? Math.round(v / (s1 / 2)) * (s1 / 2) : v));
    const dy = uniform(40, 72);
    const { dx, ops } = await generatedVjp(spec, x, dy);
    assert.ok(ops.includes('Equal') && ops.includes('Cast'));
    const ref = reference(x, dy, s1, z1, s2, lo, hi);
    assert.ok(ref.some((v) => v === 0) && ref.some((v) => v !== 0), 'the case has clipped and passing values');
    const err = relErr(dx, ref);
    assert.ok(err < 1e-6, `relative error ${err}`);
  });
}
