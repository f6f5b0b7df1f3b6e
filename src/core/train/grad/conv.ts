// Backward (input gradient) of Conv and Gemm/MatMul with frozen constant weights.
// Conv, measured in issue 13 (onnxruntime CPU vs PyTorch's conv2d_input): at stride 1 the fastest form
// is a forward Conv of dy with the weight flipped and its in/out channels swapped (per group), padded
// by d·(k−1)−p; at stride 2 ConvTranspose with the forward weight as it is. ConvTranspose also
// covers what the Conv form cannot (pads larger than the kernel's reach).
import { attrFloat, attrInt, attrInts, attrStr } from '../../onnx/graph';
import { type Const, type GradCtx, type GradFn, type Unit } from './types';
import { unsupported } from './elementwise';

/** Explicit [top, left, bottom, right] pads of a 2-D Conv (auto_pad resolved against the input size). */
export function convPads(u: Unit, inHW: number[], k: number[], s: number[], d: number[]): number[] {
  const auto = attrStr(u.node, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return [0, 0, 0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const p = inHW.map((n, i) => {
      const out = Math.ceil(n / s[i]);
      const total = Math.max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n);
      const small = Math.floor(total / 2);
      return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
    return [p[0][0], p[1][0], p[0][1], p[1][1]];
  }
  return attrInts(u.node, 'pads', [0, 0, 0, 0]);
}

/** Weight for dx as a forward conv: W'[g·ci + i, o] = flip(W[g·co + o, i]). */
export function flippedWeight(w: Const, group: number): Const {
  const [cout, cinG, kh, kw] = w.dims;
  const coutG = cout / group,
    cin = cinG * group;
  const out = new Float32Array(w.data.length);
  const k = kh * kw;
  for (let gi = 0; gi < group; gi++)
    for (let o = 0; o < coutG; o++)
      for (let i = 0; i < cinG; i++) {
        const src = ((gi * coutG + o) * cinG + i) * k,
          dst = ((gi * cinG + i) * coutG + o) * k;
        for (let t = 0; t < k; t++) out[dst + t] = w.data[src + k - 1 - t];
      }
  return { dims: [cin, coutG, kh, kw], data: out };
}

const conv: GradFn = (u, [dy], ctx) => {
  const [x, wName] = u.inputs;
  if (!dy || !ctx.active(x)) return [undefined];
  const w = ctx.constant(wName);
  if (!w) unsupported(u, 'its weight is computed, not a constant (QC keeps weights frozen)', ctx.file);
  if (w.dims.length !== 4) unsupported(u, `only 2-D convolutions are supported (weight [${w.dims}])`, ctx.file);
  const [, , kh, kw] = w.dims;
  const group = attrInt(u.node, 'group', 1);
  const s = attrInts(u.node, 'strides', [1, 1]);
  const d = attrInts(u.node, 'dilations', [1, 1]);
  const xs = ctx.shape(x),
    ys = ctx.shape(u.outputs[0]);
  const [pt, pl, pb, pr] = convPads(u, xs.slice(2), [kh, kw], s, d);
  const flipPads = [d[0] * (kh - 1) - pt, d[1] * (kw - 1) - pl, d[0] * (kh - 1) - pb, d[1] * (kw - 1) - pr];
  if (s[0] === 1 && s[1] === 1 && flipPads.every((p) => p >= 0)) {
    const rot = flippedWeight(w, group);
    const wr = ctx.b.floats(rot.data, rot.dims, `${wName}_flipped`);
    return [ctx.b.op('Conv', [dy, wr], { group, pads: flipPads, dilations: d, kernel_shape: [kh, kw] }, 'conv_dx'), undefined, undefined];
  }
  // ConvTranspose: out = s·(in − 1) + output_padding + d·(k − 1) + 1 − pads; output_padding picks the
  // rows the forward conv's floor division dropped.
  const outPad = [0, 1].map((i) => xs[2 + i] - ((ys[2 + i] - 1) * s[i] - [pt, pl][i] - [pb, pr][i] + d[i] * ([kh, kw][i] - 1) + 1));
  if (outPad.some((p, i) => p < 0 || p >= Math.max(s[i], d[i]))) unsupported(u, `no ConvTranspose reproduces input [${xs}] from output [${ys}]`, ctx.file);
  return [ctx.b.op('ConvTranspose', [dy, wName], { group, strides: s, pads: [pt, pl, pb, pr], dilations: d, kernel_shape: [kh, kw], output_padding: outPad }, 'conv_dx'), undefined, undefined];
};

/** Gemm Y = α·op(A)·op(B) + β·C with B constant: dA = α·dY·op(B)ᵀ (transA = 0). */
const gemm: GradFn = (u, [dy], ctx) => {
  const [a, bName] = u.inputs;
  if (!dy || !ctx.active(a)) return [undefined];
  if (!ctx.constant(bName)) unsupported(u, 'its weight is computed, not a constant', ctx.file);
  if (attrInt(u.node, 'transA', 0) !== 0) unsupported(u, 'transA = 1 is not supported', ctx.file);
  const transB = attrInt(u.node, 'transB', 0);
  // dA = α·dY·Bᵀ (transB 0) or α·dY·B (transB 1).
  return [ctx.b.op('Gemm', [dy, bName], { alpha: { float: attrFloat(u.node, 'alpha', 1) }, transB: transB ? 0 : 1 }, 'gemm_dx'), undefined, undefined];
};

/** MatMul X·W with W a constant 2-D matrix: dX = dY·Wᵀ. */
const matmul: GradFn = (u, [dy], ctx: GradCtx) => {
  const [a, bName] = u.inputs;
  if (!dy || !ctx.active(a)) return [undefined, undefined];
  const w = ctx.constant(bName);
  if (!w || w.dims.length !== 2 || ctx.active(bName)) unsupported(u, 'only a product with a constant 2-D matrix on the right is supported', ctx.file);
  const [k, n] = w.dims;
  const t = new Float32Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = w.data[i * n + j];
  return [ctx.b.op('MatMul', [dy, ctx.b.floats(t, [n, k], `${bName}_T`)], {}, 'matmul_dx'), undefined];
};

export const convGrads: Record<string, GradFn> = { Conv: conv, Gemm: gemm, MatMul: matmul };
