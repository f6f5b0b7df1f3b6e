// Activation backward against float64 central differences (inputs kept off the kinks of Relu,
// LeakyRelu and Clip); SiLU (Sigmoid + Mul on the same x) is differentiated as one fused unit.
import assert from 'node:assert/strict';
import test from 'node:test';
import { fdVjp, floats, generatedVjp, node, relErr, uniform, type OpSpec } from '../helpers/opGrad';

const item = [2, 5, 6],
  N = 60;
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const cases: { name: string; spec: OpSpec; f: (v: number) => number }[] = [
  { name: 'Sigmoid', spec: { item, nodes: [node('Sigmoid', ['x'], ['y'])] }, f: sig },
  { name: 'SiLU (Sigmoid + Mul)', spec: { item, nodes: [node('Sigmoid', ['x'], ['s']), node('Mul', ['x', 's'], ['y'])] }, f: (v) => v * sig(v) },
  { name: 'Relu', spec: { item, nodes: [node('Relu', ['x'], ['y'])] }, f: (v) => Math.max(0, v) },
  { name: 'LeakyRelu', spec: { item, nodes: [node('LeakyRelu', ['x'], ['y'], { alpha: { f: 0.125 } })] }, f: (v) => (v > 0 ? v : 0.125 * v) },
  { name: 'Clip (ReLU6)', spec: { item, nodes: [node('Clip', ['x', 'lo', 'hi'], ['y'])], inits: [floats('lo', [], [0]), floats('hi', [], [6])] }, f: (v) => Math.min(6, Math.max(0, v)) },
];

for (const c of cases) {
  test(`activation backward: ${c.name}`, async () => {
    // Values in ±8, none within 0.01 of the kinks at 0 and 6.
    const x = uniform(N, 41, -8, 8).map((v) => (Math.abs(v) < 0.01 || Math.abs(v - 6) < 0.01 ? v + 0.05 : v));
    const dy = uniform(N, 42);
    const { dx, ops } = await generatedVjp(c.spec, x, dy);
    const err = relErr(
      dx,
      fdVjp((xs) => xs.map(c.f), x, dy, 1e-5),
    );
    // Sigmoid is evaluated by onnxruntime's approximation (MLAS), a few float32 ulps from exp's.
    assert.ok(err < 2e-5, `relative error ${err}`);
    // Fused: Sub, Mul, Add, Mul (unfused: Sigmoid's 3 ops, Mul's 2, and a Sum of the two paths).
    if (c.name.startsWith('SiLU')) assert.deepEqual(ops.slice(4, 8), ['Sub', 'Mul', 'Add', 'Mul'], `fused SiLU backward: ${ops}`);
  });
}
