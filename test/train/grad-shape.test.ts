// Concat / Split / Slice / Reshape / Flatten / Transpose backward against onnxruntime finite
// differences (all linear in x: a unit step is exact).
import assert from 'node:assert/strict';
import test from 'node:test';
import { floats, forwardY, generatedVjp, int64s, linearVjp, node, relErr, uniform, type OpSpec } from '../helpers/opGrad';

const item = [4, 3, 5];
const cases: { name: string; spec: OpSpec }[] = [
  { name: 'Concat of x, 2x and x again', spec: { item, nodes: [node('Mul', ['x', 'k'], ['x2']), node('Concat', ['x', 'x2', 'x'], ['y'], { axis: 1 })], inits: [floats('k', [], [2])] } },
  {
    name: 'Split (uneven; one part unused)',
    spec: {
      item,
      nodes: [node('Split', ['x', 'sp'], ['a', 'b', 'c'], { axis: 1 }), node('Mul', ['a', 'two'], ['a2']), node('Concat', ['c', 'a2'], ['y'], { axis: 1 })],
      inits: [int64s('sp', [1, 2, 1]), floats('two', [], [2])],
    },
  },
  { name: 'Slice (negative start, two axes)', spec: { item, nodes: [node('Slice', ['x', 's', 'e', 'a'], ['y'])], inits: [int64s('s', [1, -4]), int64s('e', [3, 100]), int64s('a', [1, 3])] } },
  {
    name: 'Reshape to 5-D (YOLO head layout) and Transpose',
    spec: { item: [6, 2, 3], nodes: [node('Reshape', ['x', 'shape'], ['r']), node('Transpose', ['r'], ['y'], { perm: [0, 1, 3, 4, 2] })], inits: [int64s('shape', [-1, 2, 3, 2, 3])] },
  },
  { name: 'Flatten', spec: { item, nodes: [node('Flatten', ['x'], ['y'], { axis: 1 })] } },
];

for (const c of cases) {
  test(`shape op backward: ${c.name}`, async () => {
    const x = uniform(
      c.spec.item.reduce((a, b) => a * b, 1),
      51,
    );
    const { y } = await forwardY(c.spec, x);
    const dy = uniform(y.length, 52);
    const { dx } = await generatedVjp(c.spec, x, dy);
    const err = relErr(dx, await linearVjp(c.spec, x, dy));
    assert.ok(err < 1e-6, `relative error ${err}`);
  });
}
