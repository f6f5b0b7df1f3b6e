// Small tensors kept on the host (plain JS arrays): initializers, constants and the shape arithmetic
// of exports (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, grids built with Range/Expand...).
// Computing these in JS constant-folds them once per run and keeps them off the GPU (no read-backs).
import type { onnx } from '../onnx/proto';

export interface Host {
  shape: number[];
  /** Row-major values (int64 shapes exact below 2^53). */
  data: Float64Array | Float32Array;
  /** ONNX data type (1 float, 7 int64, 9 bool, 3 int8, ...): kept for Cast and integer division. */
  dtype: number;
}

export const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export function host(shape: number[], data: ArrayLike<number>, dtype: number): Host {
  const d = data instanceof Float32Array || data instanceof Float64Array ? data : Float64Array.from(data);
  return { shape, data: d, dtype };
}

export function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function broadcastShape(a: number[], b: number[], what: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${what}: shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Values of `t` read at every index of `shape` (numpy broadcasting). */
function expandTo(t: Host, shape: number[]): Float64Array {
  const out = new Float64Array(size(shape));
  const ts = strides(t.shape), os = strides(shape);
  const off = shape.length - t.shape.length;
  for (let i = 0; i < out.length; i++) {
    let src = 0, r = i;
    for (let d = 0; d < shape.length; d++) {
      const idx = Math.floor(r / os[d]); r -= idx * os[d];
      const td = d - off;
      if (td >= 0 && t.shape[td] !== 1) src += idx * ts[td];
    }
    out[i] = t.data[src];
  }
  return out;
}

const isInt = (dt: number) => dt !== 1 && dt !== 10 && dt !== 11 && dt !== 16;

export function binary(op: string, a: Host, b: Host): Host {
  const shape = broadcastShape(a.shape, b.shape, op);
  const x = expandTo(a, shape), y = expandTo(b, shape);
  const out = new Float64Array(x.length);
  const int = isInt(a.dtype);
  const f: (p: number, q: number) => number = {
    Add: (p: number, q: number) => p + q, Sub: (p: number, q: number) => p - q, Mul: (p: number, q: number) => p * q,
    Div: int ? (p: number, q: number) => Math.trunc(p / q) : (p: number, q: number) => p / q,
    Pow: Math.pow, Equal: (p: number, q: number) => +(p === q), Less: (p: number, q: number) => +(p < q),
    Greater: (p: number, q: number) => +(p > q), Max: Math.max, Min: Math.min, Mod: (p: number, q: number) => p - Math.floor(p / q) * q,
    And: (p: number, q: number) => +(!!p && !!q), Or: (p: number, q: number) => +(!!p || !!q),
  }[op]!;
  for (let i = 0; i < out.length; i++) out[i] = f(x[i], y[i]);
  const cmp = op === 'Equal' || op === 'Less' || op === 'Greater' || op === 'And' || op === 'Or';
  return { shape, data: a.dtype === 1 && !cmp ? Float32Array.from(out) : out, dtype: cmp ? 9 : a.dtype };
}

export function unary(op: string, a: Host): Host {
  const f: (v: number) => number = {
    Neg: (v: number) => -v, Floor: Math.floor, Ceil: Math.ceil, Sqrt: Math.sqrt, Abs: Math.abs, Exp: Math.exp,
    Not: (v: number) => +!v, Sigmoid: (v: number) => 1 / (1 + Math.exp(-v)), Relu: (v: number) => Math.max(0, v),
    Reciprocal: (v: number) => 1 / v, Identity: (v: number) => v,
  }[op]!;
  const out = a.data instanceof Float32Array ? new Float32Array(a.data.length) : new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i]);
  return { shape: a.shape, data: out, dtype: a.dtype };
}

export function where(c: Host, a: Host, b: Host): Host {
  const shape = broadcastShape(broadcastShape(c.shape, a.shape, 'Where'), b.shape, 'Where');
  const cc = expandTo(c, shape), x = expandTo(a, shape), y = expandTo(b, shape);
  const out = new Float64Array(cc.length);
  for (let i = 0; i < out.length; i++) out[i] = cc[i] ? x[i] : y[i];
  return { shape, data: out, dtype: a.dtype };
}

export function expand(a: Host, shape: number[]): Host {
  const s = broadcastShape(a.shape, shape, 'Expand');
  return { shape: s, data: expandTo(a, s), dtype: a.dtype };
}

export function cast(a: Host, to: number): Host {
  let data: Float64Array | Float32Array;
  if (to === 1) data = Float32Array.from(a.data);
  else if (to === 9) data = Float64Array.from(a.data, (v) => +!!v);
  else if (isInt(to)) data = Float64Array.from(a.data, Math.trunc);
  else data = Float64Array.from(a.data);
  return { shape: a.shape, data, dtype: to };
}

export function transpose(a: Host, perm: number[]): Host {
  const shape = perm.map((p) => a.shape[p]);
  const is = strides(a.shape), os = strides(shape);
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    let src = 0, r = i;
    for (let d = 0; d < shape.length; d++) { const idx = Math.floor(r / os[d]); r -= idx * os[d]; src += idx * is[perm[d]]; }
    out[i] = a.data[src];
  }
  return { shape, data: a.dtype === 1 ? Float32Array.from(out) : out, dtype: a.dtype };
}

/** Gather along `axis` with (possibly negative) integer indices. */
export function gather(a: Host, idx: Host, axis: number): Host {
  const ax = axis < 0 ? axis + a.shape.length : axis;
  const outer = size(a.shape.slice(0, ax)), n = a.shape[ax], inner = size(a.shape.slice(ax + 1));
  const k = idx.data.length;
  const out = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) {
    let ix = idx.data[j]; if (ix < 0) ix += n;
    for (let i = 0; i < inner; i++) out[(o * k + j) * inner + i] = a.data[(o * n + ix) * inner + i];
  }
  return { shape: [...a.shape.slice(0, ax), ...idx.shape, ...a.shape.slice(ax + 1)], data: out, dtype: a.dtype };
}

export function concat(xs: Host[], axis: number): Host {
  const r = xs[0].shape.length;
  const ax = axis < 0 ? axis + r : axis;
  const outer = size(xs[0].shape.slice(0, ax));
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((s, x) => s + x.shape[ax], 0);
  const out = new Float64Array(size(shape));
  let p = 0;
  for (let o = 0; o < outer; o++) for (const x of xs) {
    const chunk = size(x.shape.slice(ax));
    for (let i = 0; i < chunk; i++) out[p++] = x.data[o * chunk + i];
  }
  return { shape, data: xs[0].dtype === 1 ? Float32Array.from(out) : out, dtype: xs[0].dtype };
}

/** ONNX Slice (starts/ends/axes/steps already read), clamped like the spec. */
export function slice(a: Host, starts: number[], ends: number[], axes: number[], steps: number[]): Host {
  const r = a.shape.length;
  const st = a.shape.map(() => 0), en = [...a.shape], sp = a.shape.map(() => 1);
  axes.forEach((ax0, i) => {
    const ax = ax0 < 0 ? ax0 + r : ax0, dim = a.shape[ax], step = steps[i];
    let s = starts[i], e = ends[i];
    if (s < 0) s += dim; if (e < 0) e += dim;
    if (step > 0) { s = Math.min(Math.max(s, 0), dim); e = Math.min(Math.max(e, 0), dim); }
    else { s = Math.min(Math.max(s, 0), dim - 1); e = Math.min(Math.max(e, -1), dim - 1); }
    st[ax] = s; en[ax] = e; sp[ax] = step;
  });
  const shape = a.shape.map((_, d) => Math.max(0, Math.ceil((en[d] - st[d]) / sp[d])));
  const is = strides(a.shape), os = strides(shape);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    let src = 0, rem = i;
    for (let d = 0; d < r; d++) { const idx = Math.floor(rem / os[d]); rem -= idx * os[d]; src += (st[d] + idx * sp[d]) * is[d]; }
    out[i] = a.data[src];
  }
  return { shape, data: a.dtype === 1 ? Float32Array.from(out) : out, dtype: a.dtype };
}

export function range(start: number, limit: number, delta: number, dtype: number): Host {
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  return { shape: [n], data: Float64Array.from({ length: n }, (_, i) => start + i * delta), dtype };
}

/** ONNX Reshape target: 0 copies the input dim (unless allowzero), -1 is inferred. */
export function reshapeTarget(inShape: number[], target: number[], allowZero = false): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? inShape[i] : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const neg = out.indexOf(-1);
  if (neg >= 0) out[neg] = known === 0 ? 0 : size(inShape) / known;
  if (size(out) !== size(inShape)) throw new Error(`cannot reshape [${inShape}] to [${target}]`);
  return out;
}

/** Quantization range of an ONNX integer type (QuantizeLinear's output type). */
export function qrange(dtype: number): [number, number] {
  switch (dtype) {
    case 2: return [0, 255];
    case 3: return [-128, 127];
    case 4: return [0, 65535];
    case 5: return [-32768, 32767];
    case 21: return [0, 15];
    case 22: return [-8, 7];
    case 6: return [-(2 ** 31), 2 ** 31 - 1];
    default: throw new Error(`unsupported quantized type ${dtype}`);
  }
}

/** DequantizeLinear on the host: (x - zp) * scale, per tensor or along `axis`. Float32 result. */
export function dequantize(x: Host, scale: Host, zp: Host | undefined, axis: number): Host {
  const out = new Float32Array(x.data.length);
  if (scale.data.length === 1) {
    const s = scale.data[0], z = zp ? zp.data[0] : 0;
    for (let i = 0; i < out.length; i++) out[i] = (x.data[i] - z) * s;
  } else {
    const ax = axis < 0 ? axis + x.shape.length : axis;
    const n = x.shape[ax], inner = size(x.shape.slice(ax + 1));
    for (let i = 0; i < out.length; i++) {
      const c = Math.floor(i / inner) % n;
      out[i] = (x.data[i] - (zp ? zp.data[c] : 0)) * scale.data[c];
    }
  }
  return { shape: x.shape, data: out, dtype: 1 };
}

/** numpy-style round half to even (ONNX QuantizeLinear / Round). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantize(x: Host, scale: Host, zp: Host | undefined, axis: number, outType: number): Host {
  const [lo, hi] = qrange(outType);
  const out = new Float64Array(x.data.length);
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const n = x.shape[ax] ?? 1, inner = size(x.shape.slice(ax + 1));
  for (let i = 0; i < out.length; i++) {
    const c = scale.data.length === 1 ? 0 : Math.floor(i / inner) % n;
    const v = roundHalfEven(x.data[i] / scale.data[c]) + (zp ? zp.data[zp.data.length === 1 ? 0 : c] : 0);
    out[i] = Math.min(hi, Math.max(lo, v));
  }
  return { shape: x.shape, data: out, dtype: outType };
}

export type Attrs = Record<string, onnx.IAttributeProto>;
