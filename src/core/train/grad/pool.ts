// Backward of MaxPool: the gradient goes to each window's argmax. onnxruntime's MaxPool writes the
// argmax as its optional Indices output (flat indices into the whole NCHW input, the FIRST maximum
// in row-major order on ties, as PyTorch and tfjs's cpu kernel choose); the backward graph's copy of
// the forward MaxPool writes them, and ScatterElements(reduction = add) sums dy into place.
import { attrInt, attrInts } from '../../onnx/graph';
import { type GradFn } from './types';
import { unsupported } from './elementwise';

const maxPool: GradFn = (u, [dy], ctx) => {
  const x = u.inputs[0];
  if (!dy || !ctx.active(x)) return [undefined];
  if (attrInt(u.node, 'storage_order', 0) !== 0) unsupported(u, 'storage_order = 1', ctx.file);
  if (attrInts(u.node, 'dilations', [1, 1]).some((d) => d !== 1)) unsupported(u, 'dilated pooling', ctx.file);
  const idx = ctx.indicesOf(u.node);
  const flat = ctx.b.ints([-1]);
  const xFlat = ctx.b.op('Reshape', [x, flat]);
  const zeros = ctx.b.op('ConstantOfShape', [ctx.b.op('Shape', [xFlat])], {}, 'maxpool_zeros');
  const scattered = ctx.b.op('ScatterElements', [zeros, ctx.b.op('Reshape', [idx, flat]), ctx.b.op('Reshape', [dy, flat])], { axis: 0, reduction: 'add' }, 'maxpool_dx');
  return [ctx.b.op('Reshape', [scattered, ctx.b.op('Shape', [x])])];
};

export const poolGrads: Record<string, GradFn> = { MaxPool: maxPool };
