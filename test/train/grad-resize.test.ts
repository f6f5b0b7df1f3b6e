// Nearest Resize by integer factors: the gradient of each input pixel is its block's sum; the
// coordinate modes that do not copy whole blocks are refused by name.
import assert from 'node:assert/strict';
import test from 'node:test';
import { floats, forwardY, generatedVjp, linearVjp, node, relErr, uniform, type OpSpec } from '../helpers/opGrad';

const resizeSpec = (scales: number[], attrs: Record<string, string>): OpSpec => ({
  item: [3, 4, 5],
  nodes: [node('Resize', ['x', '', 'scales'], ['y'], { mode: 'nearest', ...attrs })],
  inits: [floats('scales', [4], [1, 1, ...scales])],
});

for (const [name, spec] of [
  ['x2, asymmetric / floor (YOLOv5 export)', resizeSpec([2, 2], { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' })],
  ['x3 by x2, half_pixel', resizeSpec([3, 2], { coordinate_transformation_mode: 'half_pixel' })],
] as [string, OpSpec][]) {
  test(`Resize backward: ${name}`, async () => {
    const x = uniform(60, 61);
    const { y } = await forwardY(spec, x);
    const dy = uniform(y.length, 62);
    const { dx } = await generatedVjp(spec, x, dy);
    const err = relErr(dx, await linearVjp(spec, x, dy));
    assert.ok(err < 1e-6, `relative error ${err}`);
  });
}

test('Resize: asymmetric round_prefer_floor at scale 3 (not whole blocks) and linear mode are refused by name', async () => {
  const x = uniform(60, 63);
  for (const [spec, why] of [
    [resizeSpec([3, 3], { coordinate_transformation_mode: 'asymmetric' }), /Resize 'Resize_y'.*does not copy whole blocks/],
    [{ ...resizeSpec([2, 2], {}), nodes: [node('Resize', ['x', '', 'scales'], ['y'], { mode: 'linear' })] }, /Resize 'Resize_y'.*mode 'linear'/],
  ] as [OpSpec, RegExp][]) {
    const { y } = await forwardY(spec, x);
    await assert.rejects(generatedVjp(spec, x, uniform(y.length, 64)), why);
  }
});
