// Backward of nearest-neighbour Resize by integer factors: each input pixel was copied to an sh x sw
// block, so its gradient is the block's sum — a depthwise Conv of dy with ones, stride = the factor
// (one op). The coordinate mode is checked to really pick floor(i / scale) for every output index.
import { attrStr } from '../../onnx/graph';
import { type GradFn, type Unit } from './types';
import { unsupported } from './elementwise';

/** Source index ONNX Resize (nearest) reads for output index i. */
function nearestSource(i: number, scale: number, inSize: number, outSize: number, ctm: string, mode: string): number {
  let x: number;
  switch (ctm) {
    case 'asymmetric':
      x = i / scale;
      break;
    case 'half_pixel':
      x = (i + 0.5) / scale - 0.5;
      break;
    case 'pytorch_half_pixel':
      x = outSize > 1 ? (i + 0.5) / scale - 0.5 : 0;
      break;
    case 'align_corners':
      x = outSize === 1 ? 0 : (i * (inSize - 1)) / (outSize - 1);
      break;
    case 'tf_half_pixel_for_nn':
      x = (i + 0.5) / scale;
      break;
    default:
      return NaN;
  }
  let r: number;
  switch (mode) {
    case 'floor':
      r = Math.floor(x);
      break;
    case 'ceil':
      r = Math.ceil(x);
      break;
    case 'round_prefer_ceil':
      r = Math.floor(x + 0.5);
      break;
    default:
      r = x % 1 === 0.5 || x % 1 === -0.5 ? Math.floor(x) : Math.round(x);
      break; // round_prefer_floor
  }
  return Math.min(Math.max(r, 0), inSize - 1);
}

function blockFactors(u: Unit, xs: number[], ys: number[], file: string): [number, number] {
  if (attrStr(u.node, 'mode', 'nearest') !== 'nearest') unsupported(u, `Resize mode '${attrStr(u.node, 'mode', 'nearest')}' (only nearest)`, file);
  if (xs[0] !== ys[0] || xs[1] !== ys[1]) unsupported(u, 'resizing the batch or channel axis', file);
  const ctm = attrStr(u.node, 'coordinate_transformation_mode', 'half_pixel');
  const nm = attrStr(u.node, 'nearest_mode', 'round_prefer_floor');
  const f = [2, 3].map((a) => ys[a] / xs[a]);
  if (!f.every((v) => Number.isInteger(v) && v >= 1)) unsupported(u, `non-integer scale [${f}]`, file);
  for (const a of [2, 3]) {
    const s = ys[a] / xs[a];
    for (let i = 0; i < ys[a]; i++) {
      if (nearestSource(i, s, xs[a], ys[a], ctm, nm) !== Math.floor(i / s)) unsupported(u, `nearest Resize with ${ctm}/${nm} does not copy whole blocks`, file);
    }
  }
  return f as [number, number];
}

const resize: GradFn = (u, [dy], ctx) => {
  const x = u.inputs[0];
  if (!dy || !ctx.active(x)) return u.inputs.map(() => undefined);
  const xs = ctx.shape(x),
    ys = ctx.shape(u.outputs[0]);
  if (xs.length !== 4) unsupported(u, `only 4-D NCHW Resize is supported (input [${xs}])`, ctx.file);
  const [sh, sw] = blockFactors(u, xs, ys, ctx.file);
  const c = xs[1];
  const ones = ctx.b.floats(new Float32Array(c * sh * sw).fill(1), [c, 1, sh, sw], 'resize_ones');
  return [ctx.b.op('Conv', [dy, ones], { group: c, strides: [sh, sw], kernel_shape: [sh, sw] }, 'resize_dx'), ...u.inputs.slice(1).map(() => undefined)];
};

export const resizeGrads: Record<string, GradFn> = { Resize: resize, Upsample: resize };
