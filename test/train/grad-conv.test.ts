// Conv / Gemm / MatMul input gradients against onnxruntime finite differences (the ops are linear in
// x, so a unit step is exact up to float32 sums): stride 1 uses the flipped-weight Conv form, stride
// 2 ConvTranspose; groups, depthwise, asymmetric pads, dilation, auto_pad.
import assert from 'node:assert/strict';
import test from 'node:test';
import { floats, forwardY, generatedVjp, linearVjp, node, relErr, uniform, type OpSpec } from '../helpers/opGrad';

interface ConvCase {
  name: string;
  item: number[];
  w: number[];
  attrs: Record<string, number | number[] | string>;
  form: 'Conv' | 'ConvTranspose';
}
const cases: ConvCase[] = [
  { name: '3x3 stride 1 pad 1', item: [3, 7, 6], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, form: 'Conv' },
  { name: '3x3 stride 2 pad 1 (odd input)', item: [3, 7, 8], w: [4, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, form: 'ConvTranspose' },
  { name: '6x6 stride 2 pad 2 (YOLOv5 stem)', item: [3, 10, 10], w: [4, 3, 6, 6], attrs: { strides: [2, 2], pads: [2, 2, 2, 2] }, form: 'ConvTranspose' },
  { name: '1x1', item: [5, 4, 4], w: [3, 5, 1, 1], attrs: {}, form: 'Conv' },
  { name: 'depthwise 3x3 stride 1', item: [4, 6, 6], w: [4, 1, 3, 3], attrs: { group: 4, pads: [1, 1, 1, 1] }, form: 'Conv' },
  { name: 'depthwise 3x3 stride 2', item: [4, 7, 7], w: [4, 1, 3, 3], attrs: { group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }, form: 'ConvTranspose' },
  { name: 'grouped (2 groups, 2 outputs per input channel)', item: [4, 5, 5], w: [8, 2, 3, 3], attrs: { group: 2, pads: [1, 1, 1, 1] }, form: 'Conv' },
  { name: 'asymmetric pads', item: [2, 6, 7], w: [3, 2, 3, 2], attrs: { pads: [0, 1, 2, 0] }, form: 'Conv' },
  { name: 'dilation 2', item: [2, 8, 8], w: [3, 2, 3, 3], attrs: { dilations: [2, 2], pads: [2, 2, 2, 2] }, form: 'Conv' },
  { name: 'auto_pad SAME_UPPER stride 2', item: [2, 7, 6], w: [3, 2, 3, 3], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' }, form: 'ConvTranspose' },
  { name: 'pad larger than the kernel reach (ConvTranspose fallback)', item: [2, 5, 5], w: [2, 2, 1, 1], attrs: { pads: [1, 1, 1, 1] }, form: 'ConvTranspose' },
];

for (const c of cases) {
  test(`Conv backward: ${c.name}`, async () => {
    const nw = c.w.reduce((a, b) => a * b, 1);
    const spec: OpSpec = {
      item: c.item,
      nodes: [node('Conv', ['x', 'w', 'b'], ['y'], { kernel_shape: c.w.slice(2), ...c.attrs })],
      inits: [floats('w', c.w, uniform(nw, 3)), floats('b', [c.w[0]], uniform(c.w[0], 4))],
    };
    const x = uniform(
      c.item.reduce((a, b) => a * b, 1),
      5,
    );
    const { y } = await forwardY(spec, x);
    const dy = uniform(y.length, 6);
    const { dx, ops } = await generatedVjp(spec, x, dy);
    const other = c.form === 'Conv' ? 'ConvTranspose' : 'Conv';
    assert.ok(ops.includes(c.form) && !ops.includes(other), `${c.form} expected, got ${[...new Set(ops)]}`);
    const err = relErr(dx, await linearVjp(spec, x, dy));
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
}

test('Gemm (transB = 1) and MatMul with a constant matrix', async () => {
  for (const spec of [
    { item: [6], nodes: [node('Gemm', ['x', 'w', 'b'], ['y'], { transB: 1, alpha: { f: 0.5 } })], inits: [floats('w', [4, 6], uniform(24, 1)), floats('b', [4], uniform(4, 2))] },
    { item: [6], nodes: [node('Gemm', ['x', 'w'], ['y'])], inits: [floats('w', [6, 3], uniform(18, 3))] },
    { item: [6], nodes: [node('MatMul', ['x', 'w'], ['y'])], inits: [floats('w', [6, 5], uniform(30, 4))] },
  ] as OpSpec[]) {
    const x = uniform(6, 9);
    const dy = uniform(spec.nodes[0].opType === 'MatMul' ? 5 : spec.inits![0].dims![0] === 4 ? 4 : 3, 10);
    const { dx } = await generatedVjp(spec, x, dy);
    const err = relErr(dx, await linearVjp(spec, x, dy));
    assert.ok(err < 1e-5, `${spec.nodes[0].opType}: relative error ${err}`);
  }
});
