// Finds the quantized weights of a QDQ ONNX graph and writes model variants whose weights are
// plain float initializers (the Q/DQ chain removed), for the soft-rounding probe. Two weight
// patterns are recognised:
//   latent:  float W -> QuantizeLinear -> [Clip] -> DequantizeLinear -> Conv/Gemm/MatMul
//   integer: int W   -> DequantizeLinear -> Conv/Gemm/MatMul       (latent weights from elsewhere)
// Activation Q/DQ pairs are left as they are.
import { FormatError } from '../errors';
import { GraphIndex, attrInt } from '../onnx/graph';
import { DataType, makeTensor, onnx, tensorShape, tensorToArray, tensorToFloat64 } from '../onnx/proto';
import { NotConstantError, clampRange, clipBounds, intRange, quantizeOutputType, weightChainOf } from '../onnx/qdq';
import type { WeightQuant } from './probeMath';

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

/** All quantized weights of the graph, in node order. */
export function findWeightChains(model: onnx.IModelProto, file: string): WeightChain[] {
  const g = new GraphIndex(model.graph!);
  const chains: WeightChain[] = [];
  for (const node of g.nodes) {
    const m = weightChainOf(g, node);
    if (!m) continue;
    const dq = m.dq;
    const sT = g.constant(dq.input?.[1]);
    if (!sT) throw new FormatError(`DequantizeLinear '${g.name(dq)}' of ${node.opType} '${g.name(node)}': its scale is not a constant`, file);
    const scale = tensorToFloat64(sT, file);
    const zT = g.constant(dq.input?.[2]);
    const zeroPoint = zT ? tensorToFloat64(zT, file) : new Float64Array(scale.length);
    const axis = scale.length > 1 ? attrInt(dq, 'axis', 1) : null;
    const chainNodes: onnx.INodeProto[] = [dq];
    let chain: WeightChain;
    const base = { op: node.opType!, node: node.name ?? '', dqOutput: node.input![1], chainNodes };
    if (m.kind === 'integer') {
      // Integer weights stored explicitly.
      const arr = tensorToArray(m.tensor, file);
      if (arr instanceof Float32Array || arr instanceof Float64Array || arr instanceof BigInt64Array) {
        throw new FormatError(`DequantizeLinear '${g.name(dq)}' reads '${m.weight}', which is not an integer tensor`, file);
      }
      const dtype = m.tensor.dataType ?? 0;
      const range = intRange(dtype);
      chain = {
        ...base,
        name: m.weight,
        shape: tensorShape(m.tensor),
        pattern: 'integer',
        integers: Int32Array.from(arr),
        quant: { scale, zeroPoint, axis, qmin: range?.[0] ?? -128, qmax: range?.[1] ?? 127 },
        rangeSource: dtype === DataType.INT4 || dtype === DataType.UINT4 ? 'dtype' : 'unknown',
      };
    } else {
      let clip: [number, number] | undefined;
      if (m.clip) {
        chainNodes.push(m.clip);
        try {
          clip = clipBounds(g, m.clip, file);
        } catch (err) {
          if (!(err instanceof NotConstantError)) throw err; // a computed bound: the type's range stands
        }
      }
      chainNodes.push(m.q);
      const w = tensorToArray(m.tensor, file);
      if (!(w instanceof Float32Array || w instanceof Float64Array)) throw new FormatError(`QuantizeLinear '${g.name(m.q)}' reads '${m.weight}', which is not a float tensor`, file);
      const range = clampRange(intRange(quantizeOutputType(g, m.q)) ?? [-128, 127], clip);
      chain = {
        ...base,
        name: m.tensor.name || m.weight,
        shape: tensorShape(m.tensor),
        pattern: 'latent',
        latent: w,
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
  const produced = new Set<string>([
    ...nodes.flatMap((n) => n.output ?? []),
    ...(graph.input ?? []).map((i) => i.name ?? ''),
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...added.map((t) => t.name!),
  ]);
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
