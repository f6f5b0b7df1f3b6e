// Rewrite a QDQ graph into an equivalent float graph for GPU engines, whose QuantizeLinear /
// DequantizeLinear kernels are slow (measured: 4-bit QDQ YOLOv5n on WebGPU 3.3x slower than CPU).
//   - Weights: DequantizeLinear of a constant (int8/int4 weights, int32 biases) and Q->[Clip]->DQ of
//     a constant are evaluated once here into float32 initializers: (q - z) * s, rounded to float32
//     exactly as the kernel computes it.
//   - Activations: QuantizeLinear(s1, z1) -> [Clip(lo, hi)] -> DequantizeLinear(s2, z2) becomes
//     Div(x, s1) -> Round -> Add(z1) -> Clip(max(qmin, lo), min(qmax, hi)) -> Sub(z2) -> Mul(s2).
//     ONNX Round is half-to-even, like QuantizeLinear's rounding, and Clip on integer-valued floats
//     is exact, so the result equals the QDQ graph up to how the kernels divide (checked in tests).
//     onnxruntime's WebGPU engine has no Round kernel: each Round runs on the CPU with two copies
//     (measured on an H200: 108 ms vs 21 ms per YOLOv5n image). round: 'magic' rounds with
//     (x + 1.5*2^23) - 1.5*2^23 instead, the same half-to-even result in float32, all on the GPU.
//     Add/Sub are left out where the zero point is 0 (x + 0 is exact).
// Anything else (Q outputs used other than by a DQ, per-axis activation quantization, opset < 11)
// is refused with a clear error, so the caller can run the original graph instead.
import { DataType, onnx, tensorShape, tensorToArray, toNumber } from '../onnx/proto';
import { makeTensor } from '../onnx/proto';
import { QatLensError } from '../errors';

export interface QdqRewriteStats {
  /** Constant tensors dequantized into float initializers. */
  weights: number;
  /** Activation Q/DQ pairs turned into float arithmetic. */
  activations: number;
}

/** One activation fake-quant the rewrite wrote (the QC gradient engine differentiates it as one unit). */
export interface FakeQuantChain {
  /** The float value quantized, and the value the chain writes (the old DequantizeLinear output). */
  input: string;
  output: string;
  /** Clip's input (round(x / scaleIn) + z1) and output: equal exactly where the value is in range. */
  clipIn: string;
  clipOut: string;
  scaleIn: number;
  scaleOut: number;
  /** The nodes of the chain, in order. */
  nodes: onnx.INodeProto[];
}

interface Const {
  dims: number[];
  values: Float64Array;
  dataType: number;
}

const INT_RANGE: Record<number, [number, number]> = {
  [DataType.INT8]: [-128, 127], [DataType.UINT8]: [0, 255], [DataType.INT16]: [-32768, 32767], [DataType.UINT16]: [0, 65535],
  [DataType.INT4]: [-8, 7], [DataType.UINT4]: [0, 15], [DataType.INT32]: [-2147483648, 2147483647],
};

export function hasQdq(model: onnx.IModelProto): boolean {
  return (model.graph?.node ?? []).some((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear');
}

function attr(n: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

/** Float32 arithmetic helper (JS numbers are float64). */
const f32 = Math.fround;

/** ONNX QuantizeLinear rounding: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface QdqRewriteOptions {
  /**
   * How to round half to even: the ONNX Round op, or (x + 1.5 * 2^23) - 1.5 * 2^23 in float32,
   * which rounds the same way for |x| < 2^22 (larger values are clipped right after anyway) and
   * uses only Add/Sub, which every engine runs on the device (see docs/pipeline.md).
   */
  round?: 'op' | 'magic';
}

const MAGIC = 12582912; // 1.5 * 2^23

export function rewriteQdqToFloat(model: onnx.IModelProto, file = '<onnx>', opts: QdqRewriteOptions = {}): { model: onnx.ModelProto; stats: QdqRewriteStats; chains: FakeQuantChain[] } {
  const g = model.graph;
  if (!g) throw new QatLensError('model has no graph', file);
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < 11) throw new QatLensError(`QDQ rewrite needs opset 11 or later (Round); the model uses opset ${opset}`, file);
  const nodes = [...(g.node ?? [])];
  const inits = new Map<string, onnx.ITensorProto>((g.initializer ?? []).map((t) => [t.name!, t]));
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));

  const constCache = new Map<string, Const | null>();
  const constOf = (name: string): Const | null => {
    if (!name) return null;
    if (constCache.has(name)) return constCache.get(name)!;
    let c: Const | null = null;
    const t = inits.get(name);
    const fromTensor = (tp: onnx.ITensorProto): Const => {
      const a = tensorToArray(tp, file);
      const values = a instanceof BigInt64Array ? Float64Array.from(a, (v) => Number(v)) : Float64Array.from(a as ArrayLike<number>);
      return { dims: tensorShape(tp), values, dataType: tp.dataType ?? 0 };
    };
    if (t) c = fromTensor(t);
    else {
      const p = producer.get(name);
      if (p?.opType === 'Constant') {
        const v = attr(p, 'value');
        if (v?.t) c = fromTensor(v.t);
        else if (attr(p, 'value_float')) c = { dims: [], values: Float64Array.of(attr(p, 'value_float')!.f ?? 0), dataType: DataType.FLOAT };
        else if (attr(p, 'value_int')) c = { dims: [], values: Float64Array.of(toNumber(attr(p, 'value_int')!.i)), dataType: DataType.INT64 };
      } else if (p?.opType === 'Identity') c = constOf(p.input![0]);
    }
    constCache.set(name, c);
    return c;
  };
  const need = (name: string | undefined, what: string, at: onnx.INodeProto): Const => {
    const c = name ? constOf(name) : null;
    if (!c) throw new QatLensError(`${at.opType} '${at.name}': ${what} '${name}' is not a constant; cannot rewrite`, file);
    return c;
  };

  const newInits: onnx.ITensorProto[] = [];
  const replaced = new Map<onnx.INodeProto, onnx.INodeProto[]>(); // DQ node -> nodes that replace it (may be [])
  const stats: QdqRewriteStats = { weights: 0, activations: 0 };
  const chains: FakeQuantChain[] = [];
  let uid = 0;
  const scalar = (base: string, v: number) => {
    const name = `${base}__fq${uid++}`;
    newInits.push(makeTensor(name, [], [v], DataType.FLOAT));
    return name;
  };

  for (const dq of nodes) {
    if (dq.opType !== 'DequantizeLinear') continue;
    const out = dq.output![0];
    const s2 = need(dq.input![1], 'scale', dq);
    const z2c = dq.input![2] ? need(dq.input![2], 'zero point', dq) : null;
    const axis2 = toNumber(attr(dq, 'axis')?.i ?? 1);
    const xName = dq.input![0];
    const xConst = constOf(xName);
    if (xConst) {
      // Weight (or bias) stored as integers: dequantize once.
      const vals = dequantize(xConst.values, xConst.dims, s2, z2c, axis2);
      newInits.push(makeTensor(out, xConst.dims, vals, DataType.FLOAT));
      replaced.set(dq, []);
      stats.weights++;
      continue;
    }
    let p = producer.get(xName);
    let clip: [number, number] = [-Infinity, Infinity];
    if (p?.opType === 'Clip') {
      const lo = p.input![1] ? need(p.input![1], 'min', p).values[0] : attr(p, 'min')?.f ?? -Infinity;
      const hi = p.input![2] ? need(p.input![2], 'max', p).values[0] : attr(p, 'max')?.f ?? Infinity;
      clip = [lo, hi];
      p = producer.get(p.input![0]);
    }
    if (p?.opType !== 'QuantizeLinear') throw new QatLensError(`DequantizeLinear '${dq.name}' reads '${xName}', which is neither a constant nor a QuantizeLinear output; cannot rewrite`, file);
    const q = p;
    const s1 = need(q.input![1], 'scale', q);
    const z1c = q.input![2] ? need(q.input![2], 'zero point', q) : null;
    const axis1 = toNumber(attr(q, 'axis')?.i ?? 1);
    const outType = z1c?.dataType ?? toNumber(attr(q, 'output_dtype')?.i ?? DataType.UINT8) ?? DataType.UINT8;
    const range = INT_RANGE[outType || DataType.UINT8];
    if (!range) throw new QatLensError(`QuantizeLinear '${q.name}' has unsupported output type ${outType}`, file);
    const lo = Math.max(range[0], clip[0]), hi = Math.min(range[1], clip[1]);
    const src = q.input![0];
    const srcConst = constOf(src);
    if (srcConst) {
      // Fake-quantized float weight: quantize and dequantize once.
      const qv = quantize(srcConst.values, srcConst.dims, s1, z1c, axis1, lo, hi);
      const vals = dequantize(qv, srcConst.dims, s2, z2c, axis2);
      newInits.push(makeTensor(out, srcConst.dims, vals, DataType.FLOAT));
      replaced.set(dq, []);
      stats.weights++;
      continue;
    }
    if (s1.values.length !== 1 || s2.values.length !== 1) throw new QatLensError(`activation Q/DQ '${q.name}' is quantized per axis; only per-tensor activations can be rewritten`, file);
    const z1 = z1c?.values[0] ?? 0, z2 = z2c?.values[0] ?? 0;
    const base = out.replace(/[^A-Za-z0-9_]/g, '_');
    const chain: onnx.INodeProto[] = [];
    let cur = src;
    const step = (op: string, inputs: string[], label = op) => {
      const o = `${base}__fq${uid++}`;
      chain.push(onnx.NodeProto.create({ opType: op, input: [cur, ...inputs], output: [o], name: `${dq.name || base}/fakequant/${label}` }));
      cur = o;
    };
    step('Div', [scalar(base, s1.values[0])]);
    // The add/subtract trick is exact below 2^22 in magnitude; wider integer ranges use Round.
    if (opts.round === 'magic' && Math.max(Math.abs(lo - z1), Math.abs(hi - z1)) < 2 ** 21) {
      step('Add', [scalar(base, MAGIC)], 'RoundAdd');
      step('Sub', [scalar(base, MAGIC)], 'RoundSub');
    } else step('Round', []);
    if (z1 !== 0) step('Add', [scalar(base, z1)]);
    const clipIn = cur;
    step('Clip', [scalar(base, lo), scalar(base, hi)]);
    const clipOut = cur;
    if (z2 !== 0) step('Sub', [scalar(base, z2)]);
    step('Mul', [scalar(base, s2.values[0])]);
    chain[chain.length - 1].output = [out];
    replaced.set(dq, chain);
    chains.push({ input: src, output: out, clipIn, clipOut, scaleIn: s1.values[0], scaleOut: s2.values[0], nodes: chain });
    stats.activations++;
  }

  // Assemble: replaced DQs give way to their chains; then drop whatever is no longer used.
  let next: onnx.INodeProto[] = [];
  for (const n of nodes) next.push(...(replaced.get(n) ?? [n]));
  const allInits = [...(g.initializer ?? []).filter((t) => !newInits.some((x) => x.name === t.name)), ...newInits];
  for (;;) {
    const used = new Set<string>(graphOutputs);
    for (const n of next) for (const i of n.input ?? []) if (i) used.add(i);
    const before = next.length;
    next = next.filter((n) => {
      const removable = n.opType === 'QuantizeLinear' || n.opType === 'Clip' || n.opType === 'Constant' || n.opType === 'Identity';
      return !removable || (n.output ?? []).some((o) => used.has(o));
    });
    if (next.length === before) break;
  }
  for (const n of next) {
    if (n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear') {
      const to = (consumers.get(n.output![0]) ?? []).map((c) => `${c.opType} '${c.name}'`).join(', ') || 'a graph output';
      throw new QatLensError(`${n.opType} '${n.name}' feeds ${to}; only QuantizeLinear -> [Clip] -> DequantizeLinear pairs can be rewritten`, file);
    }
  }
  const used = new Set<string>(graphOutputs);
  for (const n of next) for (const i of n.input ?? []) if (i) used.add(i);
  const initializer = allInits.filter((t) => used.has(t.name!));
  const produced = new Set<string>(next.flatMap((n) => n.output ?? []));
  const keptInit = new Set(initializer.map((t) => t.name!));
  const graph = onnx.GraphProto.create({
    ...g,
    node: next,
    initializer,
    input: (g.input ?? []).filter((i) => !inits.has(i.name!) || keptInit.has(i.name!)),
    valueInfo: (g.valueInfo ?? []).filter((v) => produced.has(v.name!)),
  });
  return { model: onnx.ModelProto.create({ ...model, graph }), stats, chains };
}

/** Channel index of flat element i for a per-axis parameter along `axis`. */
function channelIndexer(dims: number[], axis: number, n: number): (i: number) => number {
  if (n === 1) return () => 0;
  const ax = axis < 0 ? axis + dims.length : axis;
  if (dims[ax] !== n) throw new QatLensError(`per-axis parameter has ${n} values but axis ${axis} of [${dims.join(', ')}] has ${dims[ax]}`);
  const inner = dims.slice(ax + 1).reduce((a, b) => a * b, 1);
  return (i) => Math.floor(i / inner) % n;
}

function dequantize(q: Float64Array, dims: number[], s: Const, z: Const | null, axis: number): Float32Array {
  const ch = channelIndexer(dims, axis, s.values.length);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const c = ch(i);
    out[i] = f32((q[i] - (z ? z.values[z.values.length === 1 ? 0 : c] : 0)) * f32(s.values[c]));
  }
  return out;
}

function quantize(x: Float64Array, dims: number[], s: Const, z: Const | null, axis: number, lo: number, hi: number): Float64Array {
  const ch = channelIndexer(dims, axis, s.values.length);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = ch(i);
    const zz = z ? z.values[z.values.length === 1 ? 0 : c] : 0;
    out[i] = Math.min(hi, Math.max(lo, roundHalfEven(f32(x[i] / f32(s.values[c]))) + zz));
  }
  return out;
}
