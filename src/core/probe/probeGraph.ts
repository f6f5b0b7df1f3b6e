// Finds the quantized weights of a QDQ ONNX graph and writes model variants whose weights are
// plain float initializers (the Q/DQ chain removed), for the soft-rounding probe. Two weight
// patterns are recognised:
//   latent:  float W -> QuantizeLinear -> [Clip] -> DequantizeLinear -> Conv/Gemm/MatMul
//   integer: int W   -> DequantizeLinear -> Conv/Gemm/MatMul       (latent weights from elsewhere)
// Activation Q/DQ pairs are left as they are.
import { FormatError } from '../errors';
import { DataType, makeTensor, onnx, tensorShape, tensorToArray, tensorToFloat64, toNumber } from '../onnx/proto';
import type { WeightQuant } from './probeMath';

const WEIGHT_CONSUMERS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface WeightChain {
  /** The stored weight initializer's name (float latent or integer): the layer's name, as the readers use it. */
  name: string;
  /** Op and name of the node that consumes the dequantized weight. */
  op: string;
  node: string;
  shape: number[];
  pattern: 'latent' | 'integer';
  /** Latent float weights (pattern "latent"). */
  latent?: Float32Array | Float64Array;
  /** Stored integers (pattern "integer"); for "latent" they are computed by QuantizeLinear at run time. */
  integers?: Int32Array;
  /** Scale, zero point, axis, and the integer range where the graph says it (Clip bounds or an int4 type). */
  quant: WeightQuant;
  /** How qmin/qmax were found. */
  rangeSource: 'clip' | 'dtype' | 'unknown';
  /** Name of the tensor the consumer reads (the DequantizeLinear output): the variant's float initializer takes it. */
  dqOutput: string;
  /** The nodes of the chain (Q, Clip, DQ), removed in a variant. */
  chainNodes: onnx.INodeProto[];
}

/** Constant values by tensor name: initializers and Constant node outputs. */
function constants(graph: onnx.IGraphProto): Map<string, onnx.ITensorProto> {
  const m = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) m.set(t.name, t);
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Constant') continue;
    const a = (n.attribute ?? []).find((x) => x.name === 'value' && x.t);
    if (a?.t && n.output?.[0]) m.set(n.output[0], a.t);
  }
  return m;
}

function attrInt(n: onnx.INodeProto, name: string, dflt: number): number {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a ? toNumber(a.i) : dflt;
}

const INT_RANGES: Record<number, [number, number]> = {
  [DataType.INT8]: [-128, 127], [DataType.UINT8]: [0, 255], [DataType.INT4]: [-8, 7], [DataType.UINT4]: [0, 15],
  [DataType.INT16]: [-32768, 32767], [DataType.UINT16]: [0, 65535],
};

/** All quantized weights of the graph, in node order. */
export function findWeightChains(model: onnx.IModelProto, file: string): WeightChain[] {
  const graph = model.graph!;
  const consts = constants(graph);
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const chains: WeightChain[] = [];
  for (const node of graph.node ?? []) {
    if (!WEIGHT_CONSUMERS.has(node.opType ?? '')) continue;
    const wIn = node.input?.[1];
    const dq = wIn ? producer.get(wIn) : undefined;
    if (!dq || dq.opType !== 'DequantizeLinear') continue;
    const sT = consts.get(dq.input?.[1] ?? '');
    if (!sT) throw new FormatError(file, `DequantizeLinear '${dq.name}' of ${node.opType} '${node.name}': its scale is not a constant`);
    const scale = tensorToFloat64(sT, file);
    const zT = dq.input?.[2] ? consts.get(dq.input[2]) : undefined;
    const zeroPoint = zT ? tensorToFloat64(zT, file) : new Float64Array(scale.length);
    const axis = scale.length > 1 ? attrInt(dq, 'axis', 1) : null;
    const chainNodes: onnx.INodeProto[] = [dq];
    const src = dq.input![0];
    const srcConst = consts.get(src);
    let chain: WeightChain;
    const base = { op: node.opType!, node: node.name ?? '', dqOutput: wIn!, chainNodes };
    if (srcConst) {
      // Integer weights stored explicitly.
      const arr = tensorToArray(srcConst, file);
      if (arr instanceof Float32Array || arr instanceof Float64Array || arr instanceof BigInt64Array) {
        throw new FormatError(file, `DequantizeLinear '${dq.name}' reads '${src}', which is not an integer tensor`);
      }
      const range = INT_RANGES[srcConst.dataType ?? 0];
      chain = {
        ...base, name: src, shape: tensorShape(srcConst), pattern: 'integer', integers: Int32Array.from(arr),
        quant: { scale, zeroPoint, axis, qmin: range?.[0] ?? -128, qmax: range?.[1] ?? 127 },
        rangeSource: srcConst.dataType === DataType.INT4 || srcConst.dataType === DataType.UINT4 ? 'dtype' : 'unknown',
      };
    } else {
      let p = producer.get(src);
      let clip: [number, number] | undefined;
      if (p?.opType === 'Clip') {
        chainNodes.push(p);
        const lo = consts.get(p.input?.[1] ?? ''), hi = consts.get(p.input?.[2] ?? '');
        if (lo && hi) clip = [tensorToFloat64(lo, file)[0], tensorToFloat64(hi, file)[0]];
        p = producer.get(p.input?.[0] ?? '');
      }
      if (!p || p.opType !== 'QuantizeLinear') continue; // not a weight quantizer we know; leave it alone
      chainNodes.push(p);
      const wT = consts.get(p.input?.[0] ?? '');
      if (!wT) continue; // quantizes a computed tensor, not stored weights
      const w = tensorToArray(wT, file);
      if (!(w instanceof Float32Array || w instanceof Float64Array)) throw new FormatError(file, `QuantizeLinear '${p.name}' reads '${wT.name}', which is not a float tensor`);
      const zType = p.input?.[2] ? consts.get(p.input[2])?.dataType ?? DataType.UINT8 : DataType.UINT8;
      const range = clip ?? INT_RANGES[zType] ?? [-128, 127];
      chain = {
        ...base, name: wT.name!, shape: tensorShape(wT), pattern: 'latent', latent: w,
        quant: { scale, zeroPoint, axis, qmin: range[0], qmax: range[1] },
        rangeSource: clip ? 'clip' : 'dtype',
      };
    }
    chains.push(chain);
  }
  return chains;
}

/**
 * A copy of the model where the chains named in `weights` are replaced by float initializers
 * (named as the DequantizeLinear output, so the consumer is untouched). Tensors are shared with
 * the input model, not copied; unused initializers are dropped.
 */
export function replaceWeights(model: onnx.IModelProto, chains: WeightChain[], weights: Map<string, Float32Array>, note?: string): onnx.IModelProto {
  const graph = model.graph!;
  const removed = new Set<onnx.INodeProto>();
  const added: onnx.ITensorProto[] = [];
  for (const c of chains) {
    const w = weights.get(c.name);
    if (!w) continue;
    for (const n of c.chainNodes) removed.add(n);
    added.push(makeTensor(c.dqOutput, c.shape, w, DataType.FLOAT));
  }
  const nodes = (graph.node ?? []).filter((n) => !removed.has(n));
  const used = new Set<string>();
  for (const n of nodes) for (const i of n.input ?? []) used.add(i);
  // Graph outputs that only the removed chain produced (e.g. exposed integer weights) go too.
  const produced = new Set<string>([...nodes.flatMap((n) => n.output ?? []), ...(graph.input ?? []).map((i) => i.name ?? ''), ...(graph.initializer ?? []).map((t) => t.name ?? ''), ...added.map((t) => t.name!)]);
  const output = (graph.output ?? []).filter((o) => produced.has(o.name ?? ''));
  for (const o of output) if (o.name) used.add(o.name);
  const initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name ?? '')), ...added];
  const metadataProps = [...(model.metadataProps ?? [])];
  if (note) metadataProps.push({ key: 'qat_lens.variant', value: note });
  return { ...model, graph: { ...graph, node: nodes, initializer, output }, metadataProps };
}

/** Serialise a model to bytes (for onnxruntime, or to write out). */
export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
