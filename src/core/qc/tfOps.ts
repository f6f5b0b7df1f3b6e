// The tfjs implementations of ONNX ops (see tfGraph.ts for the NHWC layout rules they follow).
// Every op here is differentiable where QC needs it; Round (inside QuantizeLinear) passes gradients
// straight through, as fake-quant training does.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { onnx } from '../onnx/proto';
import { broadcastShape, qrange } from './hostOps';
import {
  attrFloat, attrInt, attrInts, attrs, attrStr, isHost, NHWC_AXIS, nodeName, onnxShape, toNhwc, toPlain,
  type TfGraph, type TfVal, type Val,
} from './tfGraph';

/** Round with a straight-through gradient (fake-quant's STE). */
export const roundSTE = tf.customGrad(((x: tf.Tensor) => ({ value: tf.round(x), gradFunc: (dy: tf.Tensor) => [dy] })) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Identity forward, zero gradient (torch's .detach()). */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] })) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * 1 where a == b, else 0, as float32 (finite inputs). On wasm, Equal and the Cast of its booleans
 * are slow (a full-size mask: 25 ms against 14 ms for 1 - step(|a - b|)); elsewhere the two
 * kernels are fewer dispatches. Both give exactly 0 or 1, so gradients are bit-identical.
 */
export function eqMask(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === 'wasm') return tf.sub(1, tf.step(tf.abs(tf.sub(a, b))));
  return tf.cast(tf.equal(a, b), 'float32');
}

/** clipByValue whose gradient is dy where the value was not clipped: 3 kernels instead of tfjs's 5. */
export function clipGrad(x: tf.Tensor, lo: number, hi: number): tf.Tensor {
  const op = tf.customGrad(((xx: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    const value = tf.clipByValue(xx, lo, hi);
    save([xx, value]);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, eqMask(saved[0], saved[1]))] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}

const hostNums = (v: Val | undefined): number[] => {
  if (!v) return [];
  if (!isHost(v)) throw new Error('expected a constant (shape/parameter) input, got a computed tensor');
  return Array.from(v.h.data);
};

/** Binary elementwise with NHWC-aware broadcasting. */
function binaryOp(g: TfGraph, a: Val, b: Val, f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): TfVal {
  let x = g.toTf(a), y = g.toTf(b);
  if (x.nhwc !== y.nhwc) {
    const [n, p] = x.nhwc ? [x, y] : [y, x];
    let other: TfVal;
    if (p.t.rank <= 4) {
      const r4 = p.t.rank === 4 ? p.t : tf.reshape(p.t, [...new Array(4 - p.t.rank).fill(1), ...p.t.shape]);
      other = { t: tf.transpose(r4, [0, 2, 3, 1]), nhwc: true };
      if (x.nhwc) y = other; else x = other;
      void n;
    } else {
      if (x.nhwc) x = toPlain(x); else y = toPlain(y);
    }
  }
  return { t: f(x.t, y.t), nhwc: x.nhwc && y.nhwc };
}

/** A per-axis parameter (scale, zero point) shaped to broadcast along `axis` of value v. */
function alongAxis(g: TfGraph, p: Val, v: TfVal, axis: number): tf.Tensor {
  const t = g.toTf(p).t;
  if (t.size === 1) return tf.reshape(t, []);
  const r = v.t.rank;
  let ax = axis < 0 ? axis + r : axis;
  if (v.nhwc) ax = NHWC_AXIS[ax];
  const shape = new Array(r).fill(1);
  shape[ax] = t.size;
  return tf.reshape(t, shape);
}

const unaryOps: Record<string, (x: tf.Tensor, a: Record<string, onnx.IAttributeProto>) => tf.Tensor> = {
  Sigmoid: (x) => tf.sigmoid(x),
  Relu: (x) => tf.relu(x),
  LeakyRelu: (x, a) => tf.leakyRelu(x, attrFloat(a, 'alpha', 0.01)),
  Tanh: (x) => tf.tanh(x),
  Exp: (x) => tf.exp(x),
  Log: (x) => tf.log(x),
  Sqrt: (x) => tf.sqrt(x),
  Neg: (x) => tf.neg(x),
  Abs: (x) => tf.abs(x),
  Floor: (x) => tf.floor(x),
  Ceil: (x) => tf.ceil(x),
  Reciprocal: (x) => tf.reciprocal(x),
  Softplus: (x) => tf.softplus(x),
  Elu: (x) => tf.elu(x),
  Identity: (x) => x,
  Round: (x) => roundSTE(x),
  HardSigmoid: (x, a) => tf.clipByValue(tf.add(tf.mul(x, attrFloat(a, 'alpha', 0.2)), attrFloat(a, 'beta', 0.5)), 0, 1),
  HardSwish: (x) => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1)),
};

const binaryOps: Record<string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor> = {
  Add: tf.add, Sub: tf.sub, Mul: tf.mul, Div: tf.div, Pow: tf.pow, Max: tf.maximum, Min: tf.minimum,
  Equal: (x, y) => tf.cast(tf.equal(x, y), 'float32'),
  Less: (x, y) => tf.cast(tf.less(x, y), 'float32'),
  Greater: (x, y) => tf.cast(tf.greater(x, y), 'float32'),
};

/** ONNX pads [top, left, bottom, right] (or auto_pad) -> tfjs explicit padding for NHWC. */
function convPads(a: Record<string, onnx.IAttributeProto>, inHW: number[], k: number[], s: number[], d: number[]): [number, number][] {
  const auto = attrStr(a, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return [[0, 0], [0, 0]];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    return inHW.map((n, i) => {
      const out = Math.ceil(n / s[i]);
      const total = Math.max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n);
      const small = Math.floor(total / 2);
      return (auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small]) as [number, number];
    });
  }
  const p = attrInts(a, 'pads', [0, 0, 0, 0]);
  return [[p[0], p[2]], [p[1], p[3]]];
}

function conv(g: TfGraph, node: onnx.INodeProto, ins: (Val | undefined)[]): TfVal {
  const a = attrs(node);
  const x = toNhwc(g.toTf(ins[0]!));
  const xs4 = x.t.shape as number[];
  const wShape = onnxShape(ins[1]!);
  if (wShape.length !== 4) throw new Error(`only 2-D convolutions are supported (weight shape [${wShape}])`);
  const [cout, cinG, kh, kw] = wShape;
  const group = attrInt(a, 'group', 1);
  const strides = attrInts(a, 'strides', [1, 1]) as [number, number];
  const dil = attrInts(a, 'dilations', [1, 1]) as [number, number];
  const cin = xs4[3];
  if (cinG * group !== cin) throw new Error(`input has ${cin} channels, weight expects ${cinG} x ${group} groups`);
  const [ph, pw] = convPads(a, [xs4[1], xs4[2]], [kh, kw], strides, dil);
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], ph, pw, [0, 0]];
  const key = `${nodeName(node, -1)}|${node.input![1]}`;
  const isStatic = isHost(ins[1]!);
  const weight = () => g.toTf(ins[1]!).t;
  const x4 = x.t as tf.Tensor4D;
  // With frozen (static) weights only dx is needed; where the backend's own input-gradient kernel is
  // slow (wasm: a plain loop) it is computed as a forward convolution (XNNPACK): see convDx.
  const fast = isStatic && useForwardConvForDx() && dil[0] === 1 && dil[1] === 1;
  let y: tf.Tensor;
  if (group === 1) {
    const make = () => tf.transpose(weight(), [2, 3, 1, 0]) as tf.Tensor4D;
    const f = isStatic ? (g.cached(`${key}|hwio`, make) as tf.Tensor4D) : make();
    y = fast ? convFrozen(x4, f, strides, pad, false, () => g.cached(`${key}|rot`, () => rotated(f, false)) as tf.Tensor4D) : tf.conv2d(x4, f, strides, pad, 'NHWC', dil);
  } else if (group === cin && cinG === 1) {
    const mult = cout / cin;
    const make = () => tf.transpose(tf.reshape(weight(), [cin, mult, kh, kw]), [2, 3, 0, 1]) as tf.Tensor4D;
    const f = isStatic ? (g.cached(`${key}|dw`, make) as tf.Tensor4D) : make();
    y = fast && mult === 1 ? convFrozen(x4, f, strides, pad, true, () => g.cached(`${key}|rot`, () => rotated(f, true)) as tf.Tensor4D) : tf.depthwiseConv2d(x4, f, strides, pad, 'NHWC', dil);
  } else {
    const coutG = cout / group;
    const xs = tf.split(x4, group, 3);
    const parts = xs.map((xi, gi) => {
      const make = () => tf.transpose(tf.slice(weight(), [gi * coutG, 0, 0, 0], [coutG, cinG, kh, kw]), [2, 3, 1, 0]) as tf.Tensor4D;
      const f = isStatic ? (g.cached(`${key}|g${gi}`, make) as tf.Tensor4D) : make();
      return fast ? convFrozen(xi as tf.Tensor4D, f, strides, pad, false, () => g.cached(`${key}|g${gi}|rot`, () => rotated(f, false)) as tf.Tensor4D) : tf.conv2d(xi as tf.Tensor4D, f, strides, pad, 'NHWC', dil);
    });
    y = tf.concat(parts, 3);
  }
  if (ins[2]) y = tf.add(y, g.toTf(ins[2]).t);
  return { t: y, nhwc: true };
}

/**
 * Nearest upsampling by integer factors with an exact gradient (the sum over each block). tfjs's
 * own ResizeNearestNeighborGrad disagrees between its cpu and wasm backends on some shapes.
 */
export function upsampleNearest(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const op = tf.customGrad(((xx: tf.Tensor4D) => {
    const [n, h, w, c] = xx.shape;
    const value = tf.image.resizeNearestNeighbor(xx, [h * sh, w * sw], false, false);
    const gradFunc = (dy: tf.Tensor4D) => [tf.sum(tf.reshape(dy, [n, h, sh, w, sw, c]), [2, 4])];
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

/**
 * Max pooling ('valid') whose gradient goes to the FIRST maximum of each window in row-major order,
 * as PyTorch and tfjs's cpu kernel do. Backends break ties differently (wasm), and after 4-bit
 * quantization windows hold many equal values, so the choice changes γ/β gradients visibly.
 */
export function maxPoolFirst(x: tf.Tensor4D, k: [number, number], s: [number, number]): tf.Tensor4D {
  const op = tf.customGrad(((xx: tf.Tensor4D, save: (t: tf.Tensor[]) => void) => {
    const value = tf.maxPool(xx, k, s, 'valid');
    save([xx, value]);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, y] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [n, hp, wp, c] = xs.shape;
      const [, ho, wo] = y.shape;
      let taken: tf.Tensor = tf.zerosLike(y);
      let dx: tf.Tensor = tf.zerosLike(xs);
      for (let a = 0; a < k[0]; a++) for (let b = 0; b < k[1]; b++) {
        const view = tf.stridedSlice(xs, [0, a, b, 0], [n, a + (ho - 1) * s[0] + 1, b + (wo - 1) * s[1] + 1, c], [1, s[0], s[1], 1]);
        const hit = tf.mul(eqMask(view, y), tf.sub(1, taken));
        taken = tf.add(taken, hit);
        let gab: tf.Tensor = tf.mul(dy, hit);
        if (s[0] > 1 || s[1] > 1) {
          const z = tf.pad(tf.reshape(gab, [n, ho, 1, wo, 1, c]), [[0, 0], [0, 0], [0, s[0] - 1], [0, 0], [0, s[1] - 1], [0, 0]]);
          gab = tf.slice(tf.reshape(z, [n, ho * s[0], wo * s[1], c]), [0, 0, 0, 0], [n, (ho - 1) * s[0] + 1, (wo - 1) * s[1] + 1, c]);
        }
        const [, gh, gw] = gab.shape;
        dx = tf.add(dx, tf.pad(gab, [[0, 0], [a, hp - gh - a], [b, wp - gw - b], [0, 0]]));
      }
      return [dx];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** The filter for dx as a forward convolution: spatially flipped, in/out channels swapped. */
function rotated(f: tf.Tensor4D, depthwise: boolean): tf.Tensor4D {
  const r = tf.reverse(f, [0, 1]);
  return (depthwise ? r : tf.transpose(r, [0, 1, 3, 2])) as tf.Tensor4D;
}

export const useForwardConvForDx = (): boolean => tf.getBackend() === 'wasm' && process.env.QC_NO_FAST_DX !== '1';

/**
 * conv2d with a frozen filter whose input gradient is itself a stride-1 convolution: dy with
 * (stride - 1) zeros between its entries, padded by (k - 1 - pad), convolved with the rotated filter.
 */
export function convFrozen(x: tf.Tensor4D, f: tf.Tensor4D, strides: [number, number], pad: Pad4, depthwise: boolean, rot: () => tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad(((xx: tf.Tensor4D) => {
    const value = depthwise ? tf.depthwiseConv2d(xx, f, strides, pad, 'NHWC') : tf.conv2d(xx, f, strides, pad, 'NHWC');
    const gradFunc = (dy: tf.Tensor4D) => {
      const [n, ho, wo, c] = dy.shape;
      const [sh, sw] = strides;
      let d: tf.Tensor4D = dy;
      if (sh > 1 || sw > 1) {
        const z = tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
        d = tf.slice(tf.reshape(z, [n, ho * sh, wo * sw, c]), [0, 0, 0, 0], [n, (ho - 1) * sh + 1, (wo - 1) * sw + 1, c]) as tf.Tensor4D;
      }
      const [kh, kw] = f.shape;
      const [, h, w] = xx.shape;
      const top = kh - 1 - pad[1][0], left = kw - 1 - pad[2][0];
      const bottom = h + kh - 1 - d.shape[1] - top, right = w + kw - 1 - d.shape[2] - left;
      const p: Pad4 = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
      const r = rot();
      let dx = depthwise ? tf.depthwiseConv2d(d, r, 1, p, 'NHWC') : tf.conv2d(d, r, 1, p, 'NHWC');
      if (top < 0 || left < 0 || bottom < 0 || right < 0) dx = tf.slice(dx, [0, Math.max(0, -top), Math.max(0, -left), 0], [n, h, w, dx.shape[3]]);
      return [dx];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

function pool(node: onnx.INodeProto, x0: TfVal, kind: 'max' | 'avg'): TfVal {
  const a = attrs(node);
  if (attrInt(a, 'ceil_mode', 0) !== 0) throw new Error('ceil_mode=1 is not supported');
  const x = toNhwc(x0);
  const k = attrInts(a, 'kernel_shape', []) as [number, number];
  const s = attrInts(a, 'strides', [1, 1]) as [number, number];
  const d = attrInts(a, 'dilations', [1, 1]);
  if (d.some((v) => v !== 1)) throw new Error('dilated pooling is not supported');
  const [ph, pw] = convPads(a, [x.t.shape[1]!, x.t.shape[2]!], k, s, [1, 1]);
  let t = x.t as tf.Tensor4D;
  if (kind === 'max') {
    // Pad with -inf explicitly (ONNX semantics), then pool without padding.
    if (ph[0] || ph[1] || pw[0] || pw[1]) t = tf.pad(t, [[0, 0], ph, pw, [0, 0]], -3.4e38);
    return { t: maxPoolFirst(t, k, s), nhwc: true };
  }
  if ((ph[0] || ph[1] || pw[0] || pw[1]) && attrInt(a, 'count_include_pad', 0) === 0) throw new Error('padded AveragePool without count_include_pad is not supported');
  if (ph[0] || ph[1] || pw[0] || pw[1]) t = tf.pad(t, [[0, 0], ph, pw, [0, 0]]);
  return { t: tf.avgPool(t, k, s, 'valid'), nhwc: true };
}

function resize(node: onnx.INodeProto, ins: (Val | undefined)[], g: TfGraph): TfVal {
  const a = attrs(node);
  const x = toNhwc(g.toTf(ins[0]!));
  const [, h, w] = x.t.shape;
  let outH: number, outW: number;
  const scalesIn = node.opType === 'Upsample' || (ins.length === 2) ? ins[1] : ins[2];
  const sizes = ins[3] ? hostNums(ins[3]) : [];
  const scales = scalesIn ? hostNums(scalesIn) : [];
  if (sizes.length === 4) { outH = sizes[2]; outW = sizes[3]; }
  else if (scales.length === 4) {
    if (scales[0] !== 1 || scales[1] !== 1) throw new Error('only spatial resizing is supported');
    outH = Math.floor(h * scales[2]); outW = Math.floor(w * scales[3]);
  } else throw new Error('Resize needs 4 scales or 4 sizes');
  const mode = attrStr(a, 'mode', 'nearest');
  const ctm = attrStr(a, 'coordinate_transformation_mode', 'half_pixel');
  const t = x.t as tf.Tensor4D;
  if (mode === 'nearest') {
    const integer = outH % h === 0 && outW % w === 0;
    const nm = attrStr(a, 'nearest_mode', 'round_prefer_floor');
    if (ctm === 'align_corners') return { t: tf.image.resizeNearestNeighbor(t, [outH, outW], true, false), nhwc: true };
    // At integer upscales every coordinate mode (asymmetric, half_pixel...) picks floor(i / scale).
    if (!integer && !(ctm === 'asymmetric' && nm === 'floor')) throw new Error(`nearest Resize with ${ctm}/${nm} at a non-integer scale is not supported`);
    if (integer) return { t: upsampleNearest(t, outH / h, outW / w), nhwc: true };
    return { t: tf.image.resizeNearestNeighbor(t, [outH, outW], false, false), nhwc: true };
  }
  if (mode === 'linear') {
    if (ctm === 'align_corners') return { t: tf.image.resizeBilinear(t, [outH, outW], true, false), nhwc: true };
    if (ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') return { t: tf.image.resizeBilinear(t, [outH, outW], false, true), nhwc: true };
    if (ctm === 'asymmetric') return { t: tf.image.resizeBilinear(t, [outH, outW], false, false), nhwc: true };
  }
  throw new Error(`Resize mode '${mode}' with '${ctm}' is not supported`);
}

/** Normalise an ONNX axis for a value, following its layout. */
function axisOf(v: TfVal, axis: number): number {
  const r = v.t.rank;
  const ax = axis < 0 ? axis + r : axis;
  return v.nhwc ? NHWC_AXIS[ax] : ax;
}

function slice(g: TfGraph, node: onnx.INodeProto, ins: (Val | undefined)[]): TfVal {
  const a = attrs(node);
  const x = g.toTf(ins[0]!);
  const shape = onnxShape(x);
  const starts = ins[1] ? hostNums(ins[1]) : attrInts(a, 'starts', []);
  const ends = ins[2] ? hostNums(ins[2]) : attrInts(a, 'ends', []);
  const axes = ins[3] ? hostNums(ins[3]) : attrInts(a, 'axes', starts.map((_, i) => i));
  const steps = ins[4] ? hostNums(ins[4]) : starts.map(() => 1);
  const r = shape.length;
  const begin = new Array(r).fill(0), end = [...shape], strides = new Array(r).fill(1);
  axes.forEach((ax0, i) => {
    const ax = ax0 < 0 ? ax0 + r : ax0, dim = shape[ax], step = steps[i];
    let s = starts[i], e = ends[i];
    if (s < 0) s += dim; if (e < 0) e += dim;
    if (step > 0) { s = Math.min(Math.max(s, 0), dim); e = Math.min(Math.max(e, 0), dim); }
    else { s = Math.min(Math.max(s, 0), dim - 1); e = Math.min(Math.max(e, -1), dim - 1); }
    begin[ax] = s; end[ax] = e; strides[ax] = step;
  });
  const perm = (arr: number[]) => (x.nhwc ? [arr[0], arr[2], arr[3], arr[1]] : arr);
  if (strides.every((s) => s === 1)) {
    return { t: tf.slice(x.t, perm(begin), perm(end.map((e, i) => Math.max(0, e - begin[i])))), nhwc: x.nhwc };
  }
  // Negative ends of -1 mean "through index 0": stridedSlice needs endMask for that.
  let endMask = 0;
  const e2 = perm(end), b2 = perm(begin), s2 = perm(strides);
  e2.forEach((e, i) => { if (e < 0) endMask |= 1 << i; });
  return { t: tf.stridedSlice(x.t, b2, e2, s2, 0, endMask), nhwc: x.nhwc };
}

export function runTfOp(node: onnx.INodeProto, ins: (Val | undefined)[], g: TfGraph): (Val | undefined)[] {
  const op = node.opType!;
  const a = attrs(node);
  const tv = (i: number) => g.toTf(ins[i]!);
  if (unaryOps[op]) { const x = tv(0); return [{ t: unaryOps[op](x.t, a), nhwc: x.nhwc }]; }
  if (binaryOps[op] && ins.length === 2) return [binaryOp(g, ins[0]!, ins[1]!, binaryOps[op])];
  switch (op) {
    case 'Sum': case 'Max': case 'Min': {
      const f = op === 'Sum' ? tf.add : op === 'Max' ? tf.maximum : tf.minimum;
      let acc: Val = ins[0]!;
      for (const v of ins.slice(1)) acc = binaryOp(g, acc, v!, f);
      return [acc];
    }
    case 'Conv': return [conv(g, node, ins)];
    case 'MaxPool': return [pool(node, tv(0), 'max')];
    case 'AveragePool': return [pool(node, tv(0), 'avg')];
    case 'GlobalAveragePool': { const x = toNhwc(tv(0)); return [{ t: tf.mean(x.t, [1, 2], true), nhwc: true }]; }
    case 'GlobalMaxPool': { const x = toNhwc(tv(0)); return [{ t: tf.max(x.t, [1, 2], true), nhwc: true }]; }
    case 'Resize': case 'Upsample': return [resize(node, ins, g)];
    case 'Clip': {
      const x = tv(0);
      const lo = ins[1] ? hostNums(ins[1])[0] : attrFloat(a, 'min', -3.4e38);
      const hi = ins[2] ? hostNums(ins[2])[0] : attrFloat(a, 'max', 3.4e38);
      return [{ t: clipGrad(x.t, lo, hi), nhwc: x.nhwc }];
    }
    case 'QuantizeLinear': {
      const x = tv(0);
      const axis = attrInt(a, 'axis', 1);
      const zpVal = ins[2];
      const [lo, hi] = qrange(zpVal && isHost(zpVal) ? zpVal.h.dtype : 2);
      let q = roundSTE(tf.div(x.t, alongAxis(g, ins[1]!, x, axis)));
      if (zpVal) q = tf.add(q, alongAxis(g, zpVal, x, axis));
      return [{ t: clipGrad(q, lo, hi), nhwc: x.nhwc }];
    }
    case 'DequantizeLinear': {
      const x = tv(0);
      const axis = attrInt(a, 'axis', 1);
      let d = x.t;
      if (ins[2]) d = tf.sub(d, alongAxis(g, ins[2], x, axis));
      return [{ t: tf.mul(d, alongAxis(g, ins[1]!, x, axis)), nhwc: x.nhwc }];
    }
    case 'Concat': {
      const vals = ins.filter((v): v is Val => !!v).map((v) => g.toTf(v)).filter((v) => v.t.size > 0);
      const axis = attrInt(a, 'axis', 0);
      const anyNhwc = vals.some((v) => v.nhwc);
      const vs = anyNhwc && vals.every((v) => v.t.rank === 4) ? vals.map(toNhwc) : vals.map(toPlain);
      return [{ t: tf.concat(vs.map((v) => v.t), axisOf(vs[0], axis)), nhwc: vs[0].nhwc }];
    }
    case 'Split': {
      const x = tv(0);
      const axis = axisOf(x, attrInt(a, 'axis', 0));
      const n = node.output!.length;
      const sizes = ins[1] ? hostNums(ins[1]) : attrInts(a, 'split', []);
      const parts = tf.split(x.t, sizes.length ? sizes : n, axis);
      return parts.map((t) => ({ t, nhwc: x.nhwc }));
    }
    case 'Slice': return [slice(g, node, ins)];
    case 'Reshape': {
      const x = toPlain(tv(0));
      const target = hostNums(ins[1]);
      const out = target.map((d, i) => (d === 0 && attrInt(a, 'allowzero', 0) === 0 ? x.t.shape[i] : d));
      return [{ t: tf.reshape(x.t, out), nhwc: false }];
    }
    case 'Flatten': {
      const x = toPlain(tv(0));
      let ax = attrInt(a, 'axis', 1); if (ax < 0) ax += x.t.rank;
      const s = x.t.shape;
      return [{ t: tf.reshape(x.t, [s.slice(0, ax).reduce((p, q) => p * q, 1), s.slice(ax).reduce((p, q) => p * q, 1)]), nhwc: false }];
    }
    case 'Transpose': {
      const x = tv(0);
      const perm = attrInts(a, 'perm', x.t.shape.map((_, i) => x.t.rank - 1 - i));
      if (x.nhwc) {
        // Compose: the tensor is NCHW permuted by [0,2,3,1]; apply perm on top of that.
        const nchwPos = [0, 3, 1, 2];
        return [{ t: tf.transpose(x.t, perm.map((p) => nchwPos[p])), nhwc: false }];
      }
      return [{ t: tf.transpose(x.t, perm), nhwc: false }];
    }
    case 'Squeeze': case 'Unsqueeze': {
      const x = toPlain(tv(0));
      const axes = ins[1] ? hostNums(ins[1]) : attrInts(a, 'axes', []);
      if (op === 'Squeeze') return [{ t: tf.squeeze(x.t, axes.length ? axes.map((v) => (v < 0 ? v + x.t.rank : v)) : undefined), nhwc: false }];
      const r = x.t.rank + axes.length;
      const shape = [...x.t.shape];
      for (const ax of axes.map((v) => (v < 0 ? v + r : v)).sort((p, q) => p - q)) shape.splice(ax, 0, 1);
      return [{ t: tf.reshape(x.t, shape), nhwc: false }];
    }
    case 'Softmax': case 'LogSoftmax': {
      const x = tv(0);
      const axis = attrInt(a, 'axis', -1);
      const ax = axisOf(x, axis);
      const moved = ax === x.t.rank - 1 ? x.t : tf.transpose(x.t, swapLast(x.t.rank, ax));
      let y = op === 'Softmax' ? tf.softmax(moved) : tf.logSoftmax(moved);
      if (ax !== x.t.rank - 1) y = tf.transpose(y, swapLast(x.t.rank, ax));
      return [{ t: y, nhwc: x.nhwc }];
    }
    case 'MatMul': {
      const x = toPlain(tv(0)), w = toPlain(tv(1));
      return [{ t: w.t.rank === 2 && x.t.rank > 2 ? tf.reshape(tf.matMul(tf.reshape(x.t, [-1, x.t.shape[x.t.rank - 1]]), w.t), [...x.t.shape.slice(0, -1), w.t.shape[1]!]) : tf.matMul(x.t, w.t), nhwc: false }];
    }
    case 'Gemm': {
      const x = toPlain(tv(0)), w = toPlain(tv(1));
      let y = tf.matMul(x.t as tf.Tensor2D, w.t as tf.Tensor2D, attrInt(a, 'transA', 0) === 1, attrInt(a, 'transB', 0) === 1);
      const alpha = attrFloat(a, 'alpha', 1), beta = attrFloat(a, 'beta', 1);
      if (alpha !== 1) y = tf.mul(y, alpha);
      if (ins[2]) y = tf.add(y, beta === 1 ? tv(2).t : tf.mul(tv(2).t, beta));
      return [{ t: y, nhwc: false }];
    }
    case 'BatchNormalization': {
      const x = tv(0);
      const eps = attrFloat(a, 'epsilon', 1e-5);
      const p = (i: number) => alongAxis(g, ins[i]!, x, 1);
      const y = tf.add(tf.mul(tf.div(tf.sub(x.t, p(3)), tf.sqrt(tf.add(p(4), eps))), p(1)), p(2));
      return [{ t: y, nhwc: x.nhwc }];
    }
    case 'Pad': {
      const x = tv(0);
      const pads = ins[1] ? hostNums(ins[1]) : attrInts(a, 'pads', []);
      const value = ins[2] ? hostNums(ins[2])[0] : attrFloat(a, 'value', 0);
      if (attrStr(a, 'mode', 'constant') !== 'constant') throw new Error('only constant Pad is supported');
      const r = x.t.rank;
      let pp: [number, number][] = Array.from({ length: r }, (_, i) => [pads[i], pads[i + r]] as [number, number]);
      if (x.nhwc) pp = [pp[0], pp[2], pp[3], pp[1]];
      return [{ t: tf.pad(x.t, pp, value), nhwc: x.nhwc }];
    }
    case 'Expand': {
      const x = toPlain(tv(0));
      const shape = hostNums(ins[1]);
      const r = Math.max(shape.length, x.t.rank);
      const xs = [...new Array(r - x.t.rank).fill(1), ...x.t.shape];
      const ss = [...new Array(r - shape.length).fill(1), ...shape];
      return [{ t: tf.broadcastTo(tf.reshape(x.t, xs), xs.map((d, i) => Math.max(d, ss[i]))), nhwc: false }];
    }
    case 'Gather': {
      const x = toPlain(tv(0));
      const idx = ins[1]!;
      let ax = attrInt(a, 'axis', 0); if (ax < 0) ax += x.t.rank;
      const n = x.t.shape[ax];
      const ids = hostNums(idx).map((v) => (v < 0 ? v + n : v));
      const idxShape = isHost(idx) ? idx.h.shape : [ids.length];
      const out = tf.gather(x.t, tf.tensor1d(ids, 'int32'), ax);
      return [{ t: tf.reshape(out, [...x.t.shape.slice(0, ax), ...idxShape, ...x.t.shape.slice(ax + 1)]), nhwc: false }];
    }
    case 'Cast': {
      const x = tv(0);
      const to = attrInt(a, 'to', 1);
      if (to === 1 || to === 10 || to === 11) return [x];
      if (to === 9) return [{ t: tf.cast(tf.notEqual(x.t, 0), 'float32'), nhwc: x.nhwc }];
      return [{ t: tf.mul(tf.sign(x.t), tf.floor(tf.abs(x.t))), nhwc: x.nhwc }];
    }
    case 'Where': {
      const c = toPlain(tv(0)), x = toPlain(tv(1)), y = toPlain(tv(2));
      // Shapes are known on the host: no read-back (WebGPU has no synchronous reads).
      const shape = broadcastShape(broadcastShape(c.t.shape, x.t.shape, 'Where'), y.t.shape, 'Where');
      return [{ t: tf.where(tf.broadcastTo(tf.cast(c.t, 'bool'), shape), tf.broadcastTo(x.t, shape), tf.broadcastTo(y.t, shape)), nhwc: false }];
    }
  }
  throw new Error(`unsupported op ${op}`);
}

function swapLast(rank: number, ax: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  p[ax] = rank - 1; p[rank - 1] = ax;
  return p;
}
