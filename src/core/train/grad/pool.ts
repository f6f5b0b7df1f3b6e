// Backward of MaxPool: the gradient goes to each window's argmax, the FIRST maximum in row-major
// order on ties (PyTorch's and tfjs's choice; ties are common after quantization).
//   CPU: onnxruntime's MaxPool writes the argmax as its optional Indices output (flat indices into
//        the NCHW input, first maximum on ties); the backward graph's copy of the forward MaxPool
//        writes them and ScatterElements(reduction = add) sums dy into place.
//   GPU engines (WebGPU's MaxPool has no Indices output): the windows are unfolded by a Conv with
//        one-hot kernels (exact copies), ArgMax picks the first maximum of each window, and a
//        ConvTranspose with the same kernels folds the selected dy back.
import { attrInt, attrInts } from '../../onnx/graph';
import { convPads } from './conv';
import { unsupported } from './elementwise';
import type { GradCtx, GradFn, Unit } from './types';

/** Pads below every float32 an activation takes, and small enough that 0 · PAD stays finite. */
const PAD = -3e38;

function byIndices(u: Unit, x: string, dy: string, ctx: GradCtx): string {
  const idx = ctx.indicesOf(u.node);
  const flat = ctx.b.ints([-1]);
  const xFlat = ctx.b.op('Reshape', [x, flat]);
  const zeros = ctx.b.op('ConstantOfShape', [ctx.b.op('Shape', [xFlat])], {}, 'maxpool_zeros');
  const scattered = ctx.b.op('ScatterElements', [zeros, ctx.b.op('Reshape', [idx, flat]), ctx.b.op('Reshape', [dy, flat])], { axis: 0, reduction: 'add' }, 'maxpool_dx');
  return ctx.b.op('Reshape', [scattered, ctx.b.op('Shape', [x])]);
}

function byPatches(u: Unit, x: string, dy: string, ctx: GradCtx): string {
  const [, c, h, w] = ctx.shape(x);
  const [, , ho, wo] = ctx.shape(u.outputs[0]);
  const k = attrInts(u.node, 'kernel_shape', []);
  const s = attrInts(u.node, 'strides', [1, 1]);
  const [pt, pl, pb, pr] = convPads(u, [h, w], k, s, [1, 1]);
  const K = k[0] * k[1];
  const eye = new Float32Array(K * K);
  for (let i = 0; i < K; i++) eye[i * K + i] = 1;
  const kernels = ctx.b.floats(eye, [K, 1, k[0], k[1]], 'maxpool_onehot');
  const b = ctx.b;
  const xp = b.op('Pad', [b.op('Reshape', [x, b.ints([-1, 1, h, w])]), b.ints([0, 0, pt, pl, 0, 0, pb, pr]), b.floats([PAD], [])]);
  const patches = b.op('Conv', [xp, kernels], { strides: s, kernel_shape: k }, 'maxpool_patches');
  const first = b.op('ArgMax', [patches], { axis: 1, keepdims: 1, select_last_index: 0 });
  // [NC, 1, ho, wo] against the window positions [1, K, 1, 1] (a constant ORT folds).
  const positions = b.op('Reshape', [
    b.ints(
      Array.from({ length: K }, (_, i) => i),
      'window_positions',
    ),
    b.ints([1, K, 1, 1]),
  ]);
  const hit = b.op('Equal', [first, positions]);
  const g = b.op('Where', [hit, b.op('Reshape', [dy, b.ints([-1, 1, ho, wo])]), b.floats([0], [])]);
  const hp = h + pt + pb,
    wp = w + pl + pr;
  const outPad = [hp - ((ho - 1) * s[0] + k[0]), wp - ((wo - 1) * s[1] + k[1])];
  const folded = b.op('ConvTranspose', [g, kernels], { strides: s, kernel_shape: k, output_padding: outPad }, 'maxpool_fold');
  const inner = b.op('Slice', [folded, b.ints([pt, pl]), b.ints([pt + h, pl + w]), b.ints([2, 3])]);
  return b.op('Reshape', [inner, b.ints([-1, c, h, w])], {}, 'maxpool_dx');
}

const maxPool: GradFn = (u, [dy], ctx) => {
  const x = u.inputs[0];
  if (!dy || !ctx.active(x)) return [undefined];
  if (attrInt(u.node, 'storage_order', 0) !== 0) unsupported(u, 'storage_order = 1', ctx.file);
  if (attrInt(u.node, 'ceil_mode', 0) !== 0) unsupported(u, 'ceil_mode = 1', ctx.file);
  if (attrInts(u.node, 'dilations', [1, 1]).some((d) => d !== 1)) unsupported(u, 'dilated pooling', ctx.file);
  if (ctx.shape(x).length !== 4) unsupported(u, 'only 2-D pooling is supported', ctx.file);
  return [ctx.gpu ? byPatches(u, x, dy, ctx) : byIndices(u, x, dy, ctx)];
};

export const poolGrads: Record<string, GradFn> = { MaxPool: maxPool };
