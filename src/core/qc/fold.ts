// Fold fitted γ/β into the model: γ into a per-channel DequantizeLinear scale (s_c <- γ_c·s_c, axis 0),
// β into the bias (b <- γ ⊙ b + β; a bias input is added where the layer had none). The integer
// weight initializers are not touched (bit-identical), nor are activation quantizers. A per-tensor
// weight quantizer becomes per-channel (reported per layer).
import { QatLensError } from '../errors';
import { attrInt, type GraphIndex, indexGraph, nodeName } from '../onnx/graph';
import { DataType, makeTensor, onnx, tensorShape, tensorToFloat64, toNumber } from '../onnx/proto';
import { channelIndexer, traceDq } from '../onnx/qdq';
import type { QuantLayer } from './heads';

export interface FoldedLayer {
  name: string;
  perTensorBecamePerChannel: boolean;
  biasAdded: boolean;
}

export interface FoldOptions {
  /** metadata_props to add (key -> value); existing keys of the same name are replaced. */
  metadata?: Record<string, string>;
}

/** A constant's values: an initializer (or Constant), or the DequantizeLinear of integer constants (a quantized bias). */
function constantValues(g: GraphIndex, name: string, file: string): Float64Array | undefined {
  const t = g.constant(name);
  if (t) return tensorToFloat64(t, file);
  const dq = g.producer.get(name);
  const src = dq?.opType === 'DequantizeLinear' ? traceDq(g, dq) : undefined;
  if (src?.kind !== 'integer') return undefined;
  const s = g.constant(dq!.input?.[1]),
    z = g.constant(dq!.input?.[2]);
  if (!s) return undefined;
  const x = tensorToFloat64(src.tensor, file),
    sv = tensorToFloat64(s, file),
    zv = z ? tensorToFloat64(z, file) : new Float64Array(1);
  const ch = channelIndexer(tensorShape(src.tensor), attrInt(dq!, 'axis', 1), sv.length);
  return x.map((v, i) => Math.fround((v - zv[zv.length === 1 ? 0 : ch(i)]) * sv[ch(i)]));
}

/** Returns a new ModelProto (the input proto is not modified); `file` names the model in errors. */
export function foldQC(
  model: onnx.ModelProto,
  file: string,
  layers: QuantLayer[],
  gamma: Map<string, Float32Array>,
  beta: Map<string, Float32Array>,
  opts: FoldOptions = {},
): { model: onnx.ModelProto; layers: FoldedLayer[] } {
  const m = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = m.graph!;
  const g = indexGraph(model.graph!);
  const opset = (m.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (opset && toNumber(opset.version) < 13) {
    throw new QatLensError(`the model's opset is ${toNumber(opset.version)}; folding γ into per-channel DequantizeLinear scales needs opset 13 or newer`, file, 'EOPSET');
  }
  const byName = new Map<string, onnx.INodeProto>();
  graph.node!.forEach((n, i) => byName.set(nodeName(n, i), n));
  const inits = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const used = new Set<string>();
  const fresh = (base: string) => {
    let n = base,
      k = 1;
    while (inits.has(n) || used.has(n)) n = `${base}_${k++}`;
    used.add(n);
    return n;
  };
  const consumers = (v: string) => graph.node!.filter((n) => (n.input ?? []).includes(v));
  const folded: FoldedLayer[] = [];
  for (const l of layers) {
    const gm = gamma.get(l.name),
      bt = beta.get(l.name);
    if (!gm || !bt) continue;
    const node = byName.get(l.name),
      dq = byName.get(l.dq);
    if (!node || !dq) throw new QatLensError(`layer '${l.name}' is not in the model`, file);
    const wDq = dq.output![0];
    if (consumers(wDq).length !== 1) throw new QatLensError(`layer '${l.name}': its dequantized weight feeds other nodes too; cannot fold a per-layer correction`, file);
    const C = l.channels;
    const scaleName = dq.input![1],
      zpName = dq.input![2];
    const sv = constantValues(g, scaleName, file);
    const s = sv && { data: sv };
    if (!s) throw new QatLensError(`layer '${l.name}': weight scale '${scaleName}' is not a constant`, file);
    const perTensor = s.data.length === 1;
    const axisAttr = (dq.attribute ?? []).find((a) => a.name === 'axis');
    const axis = axisAttr ? toNumber(axisAttr.i) : 1;
    if (!perTensor && axis !== 0 && axis !== -4) throw new QatLensError(`layer '${l.name}': weight quantized per-channel along axis ${axis}, not the output channels`, file);
    const newScale = Float32Array.from({ length: C }, (_, c) => Math.fround((perTensor ? s.data[0] : s.data[c]) * gm[c]));
    const sName = fresh(`${scaleName}_qc`);
    graph.initializer!.push(makeTensor(sName, [C], newScale, DataType.FLOAT));
    dq.input![1] = sName;
    if (perTensor && zpName) {
      const zp = inits.get(zpName);
      const zv = constantValues(g, zpName, file);
      const z = zv && { data: zv };
      if (!zp || !z) throw new QatLensError(`layer '${l.name}': weight zero point '${zpName}' is not an initializer`, file);
      const zName = fresh(`${zpName}_qc`);
      graph.initializer!.push(makeTensor(zName, [C], new Array(C).fill(z.data[0]), zp.dataType ?? DataType.INT8));
      dq.input![2] = zName;
    }
    dq.attribute = [...(dq.attribute ?? []).filter((a) => a.name !== 'axis'), onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })];
    // Bias: b' = γ·b + β, as float32 (a quantized int32 bias, if any, becomes a float initializer).
    const bName = node.input![2];
    const bv = bName ? constantValues(g, bName, file) : undefined;
    const b = bv && { data: bv };
    if (bName && !b) throw new QatLensError(`layer '${l.name}': bias '${bName}' is not a constant`, file);
    if (b && b.data.length !== C) throw new QatLensError(`layer '${l.name}': bias has ${b.data.length} values for ${C} channels`, file);
    const nb = Float32Array.from({ length: C }, (_, c) => Math.fround(gm[c] * (b ? b.data[c] : 0) + bt[c]));
    const nbName = fresh(`${l.name.replace(/[^\w.]/g, '_')}_qc_bias`);
    graph.initializer!.push(makeTensor(nbName, [C], nb, DataType.FLOAT));
    const ins = [...node.input!];
    while (ins.length < 2) ins.push('');
    ins[2] = nbName;
    node.input = ins;
    folded.push({ name: l.name, perTensorBecamePerChannel: perTensor, biasAdded: !b });
  }
  // Drop initializers nothing reads any more (the replaced scales and biases).
  const read = new Set(graph.node!.flatMap((n) => n.input ?? []));
  for (const o of graph.output ?? []) read.add(o.name!);
  graph.initializer = graph.initializer!.filter((t) => read.has(t.name!));
  const inputNames = new Set(graph.initializer.map((t) => t.name));
  graph.input = (graph.input ?? []).filter((i) => inputNames.has(i.name) || !inits.has(i.name!));
  if (opts.metadata) {
    const keep = (m.metadataProps ?? []).filter((e) => !(e.key! in opts.metadata!));
    m.metadataProps = [...keep, ...Object.entries(opts.metadata).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value }))];
  }
  return { model: m, layers: folded };
}
