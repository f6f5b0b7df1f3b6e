// Backward of the ops that move data without arithmetic: Concat <-> Split, Slice -> Pad,
// Reshape/Flatten/Squeeze/Unsqueeze -> Reshape to the input's shape, Transpose -> inverse Transpose.
import { attrInt, attrInts } from '../../onnx/graph';
import { type GradFn } from './types';
import { unsupported } from './elementwise';

const axisOf = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

const concat: GradFn = (u, [dy], ctx) => {
  if (!dy) return u.inputs.map(() => undefined);
  const rank = ctx.shape(u.outputs[0]).length;
  const axis = axisOf(attrInt(u.node, 'axis', 0), rank);
  if (axis === 0) unsupported(u, 'concatenation along the batch axis', ctx.file);
  const sizes = u.inputs.map((x) => ctx.shape(x)[axis]);
  const parts = ctx.b.node('Split', [dy, ctx.b.ints(sizes)], { axis }, u.inputs.length, 'concat_dx');
  return u.inputs.map((x, i) => (ctx.active(x) ? parts[i] : undefined));
};

const split: GradFn = (u, dys, ctx) => {
  const x = u.inputs[0];
  if (!ctx.active(x) || dys.every((d) => !d)) return u.inputs.map(() => undefined);
  const rank = ctx.shape(x).length;
  const axis = axisOf(attrInt(u.node, 'axis', 0), rank);
  if (axis === 0) unsupported(u, 'splitting along the batch axis', ctx.file);
  const parts = u.outputs.map((o, i) => dys[i] ?? ctx.zerosLike(o));
  return [ctx.b.op('Concat', parts, { axis }, 'split_dx'), ...u.inputs.slice(1).map(() => undefined)];
};

const slice: GradFn = (u, [dy], ctx) => {
  const x = u.inputs[0];
  if (!dy || !ctx.active(x)) return u.inputs.map(() => undefined);
  const xs = ctx.shape(x),
    r = xs.length;
  const starts = ctx.ints(u.inputs[1], u),
    ends = ctx.ints(u.inputs[2], u);
  const axes = u.inputs[3] ? ctx.ints(u.inputs[3], u) : starts.map((_, i) => i);
  const steps = u.inputs[4] ? ctx.ints(u.inputs[4], u) : starts.map(() => 1);
  const pads = new Array(2 * r).fill(0);
  axes.forEach((a0, i) => {
    const a = axisOf(a0, r),
      dim = xs[a];
    if (a === 0) unsupported(u, 'slicing along the batch axis', ctx.file);
    if (steps[i] !== 1) unsupported(u, `slice step ${steps[i]} (only 1 is supported)`, ctx.file);
    let s = starts[i],
      e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, s), dim);
    pads[a] = s;
    pads[a + r] = dim - e;
  });
  return [ctx.b.op('Pad', [dy, ctx.b.ints(pads)], {}, 'slice_dx'), undefined, undefined, undefined, undefined];
};

const reshapeLike: GradFn = (u, [dy], ctx) => {
  const x = u.inputs[0];
  if (!dy || !ctx.active(x)) return u.inputs.map(() => undefined);
  const xs = ctx.shape(x);
  // The batch dimension is copied from dy (0 in a Reshape target copies that dimension).
  const target = xs.map((d, i) => (i === 0 ? 0 : d));
  if (ctx.shape(u.outputs[0])[0] !== xs[0]) unsupported(u, 'a reshape that moves the batch axis', ctx.file);
  return [ctx.b.op('Reshape', [dy, ctx.b.ints(target)], {}, 'reshape_dx'), ...u.inputs.slice(1).map(() => undefined)];
};

const transpose: GradFn = (u, [dy], ctx) => {
  const x = u.inputs[0];
  if (!dy || !ctx.active(x)) return [undefined];
  const r = ctx.shape(x).length;
  const perm = attrInts(
    u.node,
    'perm',
    Array.from({ length: r }, (_, i) => r - 1 - i),
  );
  const inv = new Array<number>(r);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return [ctx.b.op('Transpose', [dy], { perm: inv }, 'transpose_dx')];
};

export const shapeGrads: Record<string, GradFn> = {
  Concat: concat,
  Split: split,
  Slice: slice,
  Transpose: transpose,
  Reshape: reshapeLike,
  Flatten: reshapeLike,
  Squeeze: reshapeLike,
  Unsqueeze: reshapeLike,
};
