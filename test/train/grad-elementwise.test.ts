// Add / Sub / Mul / Div / Sum backward, with numpy broadcasting (gradients summed over the broadcast
// axes) and with x on both sides, against float64 central differences of the same arithmetic.
import assert from 'node:assert/strict';
import test from 'node:test';
import { fdVjp, floats, forwardY, generatedVjp, node, relErr, uniform, type OpSpec } from '../helpers/opGrad';

const C = 3,
  H = 4,
  W = 5,
  N = C * H * W;
const k = uniform(C, 21, 0.5, 2); // per-channel constant [C, 1, 1]
const at = (i: number) => Math.floor(i / (H * W)) % C;

const cases: { name: string; spec: OpSpec; f: (x: Float64Array) => Float64Array }[] = [
  { name: 'Add of a per-channel constant', spec: { item: [C, H, W], nodes: [node('Add', ['x', 'k'], ['y'])], inits: [floats('k', [C, 1, 1], k)] }, f: (x) => x.map((v, i) => v + k[at(i)]) },
  { name: 'constant minus x', spec: { item: [C, H, W], nodes: [node('Sub', ['k', 'x'], ['y'])], inits: [floats('k', [C, 1, 1], k)] }, f: (x) => x.map((v, i) => k[at(i)] - v) },
  { name: 'Mul by a per-channel constant', spec: { item: [C, H, W], nodes: [node('Mul', ['x', 'k'], ['y'])], inits: [floats('k', [C, 1, 1], k)] }, f: (x) => x.map((v, i) => v * k[at(i)]) },
  {
    name: 'Div by a scalar constant',
    spec: { item: [C, H, W], nodes: [node('Div', ['x', 'k'], ['y'])], inits: [floats('k', [], [Math.fround(0.37)])] },
    f: (x) => x.map((v) => v / Math.fround(0.37)),
  },
  { name: 'x · x', spec: { item: [C, H, W], nodes: [node('Mul', ['x', 'x'], ['y'])] }, f: (x) => x.map((v) => v * v) },
  {
    name: 'x / (x² + 1) (x in the divisor)',
    spec: { item: [C, H, W], nodes: [node('Mul', ['x', 'x'], ['x2']), node('Add', ['x2', 'one'], ['d']), node('Div', ['x', 'd'], ['y'])], inits: [floats('one', [], [1])] },
    f: (x) => x.map((v) => v / (v * v + 1)),
  },
  {
    name: 'x broadcast against a reduced copy of itself',
    spec: { item: [C, H, W], nodes: [node('Slice', ['x', 's', 'e', 'a'], ['x0']), node('Sub', ['x', 'x0'], ['y'])], inits: [] },
    f: (x) => x.map((v, i) => v - x[((i % (H * W)) % W) + Math.floor((i % (H * W)) / W) * W]),
  },
  { name: 'Sum of three', spec: { item: [C, H, W], nodes: [node('Sum', ['x', 'x', 'k'], ['y'])], inits: [floats('k', [C, 1, 1], k)] }, f: (x) => x.map((v, i) => 2 * v + k[at(i)]) },
];
// Slice's constant inputs for the broadcast case: channel 0 only, [1, 1, H, W].
import { int64s } from '../helpers/opGrad';
cases[6].spec.inits = [int64s('s', [0]), int64s('e', [1]), int64s('a', [1])];

for (const c of cases) {
  test(`elementwise backward: ${c.name}`, async () => {
    const x = uniform(N, 31);
    const { y } = await forwardY(c.spec, x);
    const dy = uniform(y.length, 32);
    const { dx } = await generatedVjp(c.spec, x, dy);
    const err = relErr(dx, fdVjp(c.f, x, dy));
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
}
