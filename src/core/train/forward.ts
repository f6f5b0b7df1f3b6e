// The FORWARD training graph, generated from a QDQ model:
//   - frozen weights dequantized once into float initializers and activation Q -> [Clip] -> DQ turned
//     into float fake-quant, by the inference pipeline's rewrite (infer/qdqToFloat.ts), which also
//     reports each fake-quant chain so the backward can treat it as one straight-through unit;
//   - per quantized layer l, the layer's output h becomes h * γ_l + β_l (γ, β graph inputs shaped to
//     broadcast per output channel: [1, C, 1, 1] for Conv, [1, C] for Gemm);
//   - outputs: the head tensors; everything the heads do not need is dropped.
import { QatLensError } from '../errors';
import { hasQdq, rewriteQdqToFloat, type FakeQuantChain } from '../infer/qdqToFloat';
import { onnx, toNumber } from '../onnx/proto';
import type { QuantLayer } from '../qc/heads';
import { GraphBuilder } from './builder';

/** Opset of the generated graphs: 16+ for ScatterElements' reduction (MaxPool's backward). */
export const TRAIN_OPSET = 17;

export interface AffineSite {
  layer: QuantLayer;
  /** Pre-affine value (the Conv/Gemm output, renamed) and the γ/β graph inputs. */
  pre: string;
  gamma: string;
  beta: string;
  /** Feed shape of γ/β: [1, C, 1, 1] or [1, C]. */
  paramShape: number[];
  /** Axes a per-channel gradient sums over ([0, 2, 3] or [0]). */
  sumAxes: number[];
}

export interface ForwardGraph {
  file: string;
  model: onnx.ModelProto;
  /** Image input name and its declared shape (dims that are not fixed are 0). */
  input: string;
  inputDims: number[];
  sites: AffineSite[];
  chains: FakeQuantChain[];
  heads: string[];
}

export interface ForwardOptions {
  /** How fake-quant rounds: ONNX Round (CPU) or the float add/subtract trick (GPU engines). */
  round?: 'op' | 'magic';
}

const opsetOf = (m: onnx.IModelProto): number => toNumber((m.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);

export function buildForward(model: onnx.ModelProto, file: string, layers: QuantLayer[], heads: string[], o: ForwardOptions = {}): ForwardGraph {
  const opset = opsetOf(model);
  // 13 moved axes/splits from attributes to inputs for the ops the backward writes; older graphs
  // would need each op converted.
  if (opset < 13) throw new QatLensError(`QC's training graph needs opset 13 or later; the model uses opset ${opset} (re-export it with opset_version=13 or newer)`, file, 'EOPSET');
  if ((model.opsetImport ?? []).some((x) => x.domain && x.domain !== 'ai.onnx')) {
    const dom = (model.opsetImport ?? [])
      .filter((x) => x.domain && x.domain !== 'ai.onnx')
      .map((x) => x.domain)
      .join(', ');
    const used = (model.graph?.node ?? []).find((n) => n.domain && n.domain !== 'ai.onnx');
    if (used) throw new QatLensError(`QC cannot train through custom-domain op ${used.domain}.${used.opType} '${used.name}' (domains: ${dom})`, file, 'EOP');
  }
  const rewritten = hasQdq(model) ? rewriteQdqToFloat(model, file, { round: o.round ?? 'op' }) : { model, chains: [] as FakeQuantChain[] };
  const g = rewritten.model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name!));
  const realInputs = (g.input ?? []).filter((i) => !inits.has(i.name!));
  if (realInputs.length !== 1) throw new QatLensError(`QC expects one image input; the model has ${realInputs.length} (${realInputs.map((i) => i.name).join(', ')})`, file, 'EINPUT');
  const input = realInputs[0];
  const inputDims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null ? toNumber(d.dimValue) : 0));

  const b = new GraphBuilder('qcf');
  const producerIndex = new Map<string, number>();
  const nodes = (g.node ?? []).map((n) => onnx.NodeProto.create(n));
  nodes.forEach((n, i) => {
    for (const out of n.output ?? []) producerIndex.set(out, i);
  });
  const after = new Map<number, onnx.INodeProto[]>();
  const sites: AffineSite[] = layers.map((layer, li) => {
    const at = producerIndex.get(layer.output);
    if (at === undefined) throw new QatLensError(`quantized layer '${layer.name}': no node writes '${layer.output}'`, file, 'ELAYER');
    const node = nodes[at];
    if (node.opType !== 'Conv' && node.opType !== 'Gemm') throw new QatLensError(`quantized layer '${layer.name}' is a ${node.opType}, not a Conv or Gemm`, file, 'ELAYER');
    const pre = `${layer.output}__qc_h`;
    node.output = node.output!.map((x) => (x === layer.output ? pre : x));
    const gamma = `qc_gamma_${li}`,
      beta = `qc_beta_${li}`;
    const conv = node.opType === 'Conv';
    const before = b.nodes.length;
    const scaled = b.op('Mul', [pre, gamma], {}, `${layer.name}/qc_gamma`);
    b.node('Add', [scaled, beta], {}, [layer.output], `${layer.name}/qc_beta`);
    after.set(at, [...(after.get(at) ?? []), ...b.nodes.slice(before)]);
    return {
      layer,
      pre,
      gamma,
      beta,
      paramShape: conv ? [1, layer.channels, 1, 1] : [1, layer.channels],
      sumAxes: conv ? [0, 2, 3] : [0],
    };
  });
  const ordered: onnx.INodeProto[] = [];
  nodes.forEach((n, i) => {
    ordered.push(n, ...(after.get(i) ?? []));
  });

  const produced = new Set(ordered.flatMap((n) => n.output ?? []));
  for (const h of heads) if (!produced.has(h)) throw new QatLensError(`head '${h}' is not a value of the graph`, file, 'EHEAD');
  const kept = prune(ordered, heads);
  const param = (name: string, dims: number[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
  const floatOut = (name: string) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } });
  const used = new Set(kept.flatMap((n) => n.input ?? []));
  const graph = onnx.GraphProto.create({
    name: 'qc_forward',
    node: kept,
    initializer: [...(g.initializer ?? []), ...b.inits].filter((t) => used.has(t.name!)),
    input: [input, ...sites.flatMap((s) => [param(s.gamma, s.paramShape), param(s.beta, s.paramShape)])],
    output: heads.map(floatOut),
  });
  const out = onnx.ModelProto.create({
    irVersion: Math.max(toNumber(model.irVersion ?? 8), 8),
    opsetImport: [{ domain: '', version: Math.max(opset, TRAIN_OPSET) }],
    producerName: 'qat-lens qc',
    graph,
  });
  return { file, model: out, input: input.name!, inputDims, sites, chains: rewritten.chains, heads };
}

/** Nodes needed to compute `outputs`, in their order. */
export function prune(nodes: onnx.INodeProto[], outputs: string[]): onnx.INodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) if (o) producer.set(o, i);
  });
  const need = new Set<number>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = producer.get(v);
    if (p === undefined || need.has(p)) continue;
    need.add(p);
    for (const i of nodes[p].input ?? []) if (i) stack.push(i);
  }
  return nodes.filter((_, i) => need.has(i));
}
