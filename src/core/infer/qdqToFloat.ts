// Rewrite a QDQ graph into an equivalent float graph for GPU engines, whose QuantizeLinear /
// DequantizeLinear kernels are slow (measured: 4-bit QDQ YOLOv5n on WebGPU 3.3x slower than CPU).
//   - Weights: DequantizeLinear of a constant (int8/int4 weights, int32 biases) and Q->[Clip]->DQ of
//     a constant are evaluated once here into float32 initializers: (q - z) * s, rounded to float32
//     exactly as the kernel computes it.
//   - Activations: QuantizeLinear(s1, z1) -> [Clip(lo, hi)] -> DequantizeLinear(s2, z2) becomes
//     Div(x, s1) -> Round -> Add(z1) -> Clip(max(qmin, lo), min(qmax, hi)) -> Sub(z2) -> Mul(s2)
//     (with z1 = z2, the zero point moves into the Clip bounds instead).
//     ONNX Round is half-to-even, like QuantizeLinear's rounding, and Clip on integer-valued floats
//     is exact, so the result equals the QDQ graph up to how the kernels divide (checked in tests).
//     onnxruntime's WebGPU engine has no Round kernel: each Round runs on the CPU with two copies
//     (measured on an H200: 108 ms vs 21 ms per YOLOv5n image). round: 'magic' rounds with
//     (x + 1.5*2^23) - 1.5*2^23 instead, the same half-to-even result in float32, all on the GPU.
//     Add/Sub are left out where the zero point is 0 (x + 0 is exact).
// Anything else (Q outputs used other than by a DQ, per-axis activation quantization, opset < 11)
// is refused with a clear error, so the caller can run the original graph instead.
import { DataType, makeTensor, onnx, tensorShape, tensorToArray, toNumber } from '../onnx/proto';
import { GraphIndex, attrInt } from '../onnx/graph';
import { NotConstantError, channelIndexer, clipBounds, intRange, quantizeLinear, quantizeOutputType } from '../onnx/qdq';
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

export function hasQdq(model: onnx.IModelProto): boolean {
  return (model.graph?.node ?? []).some((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear');
}

/** Float32 arithmetic helper (JS numbers are float64). */
const f32 = Math.fround;

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
  const ix = new GraphIndex(g);
  const nodes = [...ix.nodes];
  const inits = ix.initializers;
  const producer = ix.producer;
  const consumers = ix.consumers;
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));

  const constCache = new Map<string, Const | null>();
  const constOf = (name: string): Const | null => {
    if (!name) return null;
    if (constCache.has(name)) return constCache.get(name)!;
    let c: Const | null = null;
    const t = ix.constant(name);
    if (t) {
      const a = tensorToArray(t, file);
      const values = a instanceof BigInt64Array ? Float64Array.from(a, (v) => Number(v)) : Float64Array.from(a as ArrayLike<number>);
      c = { dims: tensorShape(t), values, dataType: t.dataType ?? 0 };
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
    const axis2 = attrInt(dq, 'axis', 1);
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
      try {
        clip = clipBounds(ix, p, file);
      } catch (err) {
        if (err instanceof NotConstantError) throw new QatLensError(`${err.message}; cannot rewrite`, file);
        throw err;
      }
      p = producer.get(p.input![0]);
    }
    if (p?.opType !== 'QuantizeLinear') throw new QatLensError(`DequantizeLinear '${dq.name}' reads '${xName}', which is neither a constant nor a QuantizeLinear output; cannot rewrite`, file);
    const q = p;
    const s1 = need(q.input![1], 'scale', q);
    const z1c = q.input![2] ? need(q.input![2], 'zero point', q) : null;
    const axis1 = attrInt(q, 'axis', 1);
    const outType = quantizeOutputType(ix, q);
    const range = intRange(outType);
    if (!range) throw new QatLensError(`QuantizeLinear '${q.name}' has unsupported output type ${outType}`, file);
    const lo = Math.max(range[0], clip[0]),
      hi = Math.min(range[1], clip[1]);
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
    const z1 = z1c?.values[0] ?? 0,
      z2 = z2c?.values[0] ?? 0;
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
    // Equal zero points cancel: clip(r + z, lo, hi) - z = clip(r, lo - z, hi - z), exactly (integers
    // in float32), two full-size passes fewer.
    const shift = z1 === z2 ? z1 : 0;
    if (z1 !== shift) step('Add', [scalar(base, z1)]);
    const clipIn = cur;
    step('Clip', [scalar(base, lo - shift), scalar(base, hi - shift)]);
    const clipOut = cur;
    if (z2 !== shift) step('Sub', [scalar(base, z2)]);
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

/** channelIndexer with the rewrite's error type. */
function channels(dims: number[], axis: number, n: number): (i: number) => number {
  try {
    return channelIndexer(dims, axis, n);
  } catch (err) {
    throw new QatLensError((err as Error).message);
  }
}

function dequantize(q: Float64Array, dims: number[], s: Const, z: Const | null, axis: number): Float32Array {
  const ch = channels(dims, axis, s.values.length);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const c = ch(i);
    out[i] = f32((q[i] - (z ? z.values[z.values.length === 1 ? 0 : c] : 0)) * f32(s.values[c]));
  }
  return out;
}

function quantize(x: Float64Array, dims: number[], s: Const, z: Const | null, axis: number, lo: number, hi: number): Float64Array {
  const ch = channels(dims, axis, s.values.length);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = ch(i);
    const zz = z ? z.values[z.values.length === 1 ? 0 : c] : 0;
    out[i] = quantizeLinear(x[i], f32(s.values[c]), zz, lo, hi, true);
  }
  return out;
}
