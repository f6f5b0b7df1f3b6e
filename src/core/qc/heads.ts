// What QC needs to know about a detector graph: its quantized layers (a Conv/Gemm whose weight
// comes from DequantizeLinear) and its raw detection heads (the per-scale Conv outputs that YOLOv5's
// Detect reshapes to [b, na, 5 + nc, ny, nx] before the sigmoid decode), with anchors and strides.
import * as ort from 'onnxruntime-node';
import { QatLensError } from '../errors';
import { attrInt, type GraphIndex, indexGraph, type Node } from '../onnx/graph';
import { onnx, tensorShape, tensorToFloat64 } from '../onnx/proto';
import { weightChainOf } from '../onnx/qdq';
export interface QuantLayer {
  /** Conv/Gemm node name. */
  name: string;
  op: 'Conv' | 'Gemm';
  /** Value the node writes: γ/β act on it (the pre-activation, bias included). */
  output: string;
  channels: number;
  /** The DequantizeLinear node of the weight. */
  dq: string;
  perTensor: boolean;
}

export interface HeadSpec {
  /** Conv output values, one per scale, sorted by stride (P3, P4, P5). */
  outputs: string[];
  strides: number[];
  /** Per scale anchors in pixels [w0, h0, w1, h1, ...]. */
  anchors: number[][];
  na: number;
  nc: number;
  /** Where the anchors came from (decode constants, metadata or the caller). */
  anchorSource: string;
}

export function findQuantLayers(g: GraphIndex): QuantLayer[] {
  const out: QuantLayer[] = [];
  for (const node of g.nodes) {
    if (node.opType !== 'Conv' && node.opType !== 'Gemm') continue;
    if (node.opType === 'Gemm' && attrInt(node, 'transB', 0) !== 1) continue;
    const w = weightChainOf(g, node);
    if (!w) continue;
    const scale = g.constant(w.dq.input?.[1]);
    out.push({
      name: g.name(node), op: node.opType as 'Conv' | 'Gemm', output: node.output![0],
      channels: tensorShape(w.tensor)[0], dq: g.name(w.dq), perTensor: !scale || tensorShape(scale).reduce((a, b) => a * b, 1) === 1,
    });
  }
  return out;
}

const downstream = (g: GraphIndex, value: string, depth: number): Node[] => {
  const seen = new Set<Node>();
  const res: Node[] = [];
  let frontier = [value];
  for (let d = 0; d < depth && frontier.length; d++) {
    const next: string[] = [];
    for (const v of frontier) for (const c of g.consumers.get(v) ?? []) {
      if (seen.has(c)) continue;
      seen.add(c);
      res.push(c);
      next.push(...(c.output ?? []));
    }
    frontier = next;
  }
  return res;
};

/** Values of a graph on one zero image (batch 1), read by making them graph outputs (onnxruntime CPU). */
async function probeValues(model: onnx.ModelProto, names: string[], imgsz: [number, number]): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const g = model.graph!;
  const graph = onnx.GraphProto.create({ ...g, output: names.map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } })) });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ ...model, graph })).finish();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  try {
    const inits = new Set((g.initializer ?? []).map((t) => t.name));
    const input = (g.input ?? []).find((i) => !inits.has(i.name))!;
    const out = await session.run({ [input.name!]: new ort.Tensor('float32', new Float32Array(3 * imgsz[0] * imgsz[1]), [1, 3, imgsz[0], imgsz[1]]) });
    return Object.fromEntries(names.map((n) => [n, { dims: [...out[n].dims], data: out[n].data as Float32Array }]));
  } finally {
    await session.release();
  }
}

export interface HeadOverrides { anchors?: number[][]; strides?: number[] }

/**
 * Find the heads: a Conv whose output goes (directly) into a Reshape to 5-D [b, na, no, ny, nx]
 * followed by a Transpose to [b, na, ny, nx, no]. One probe forward at `imgsz` reads the shapes and
 * the anchor-grid operands of the decode (a Mul by a [1, na, *, *, 2] tensor after the wh Pow).
 */
export async function findHeads(model: onnx.ModelProto, file: string, imgsz: [number, number], over: HeadOverrides = {}): Promise<HeadSpec> {
  const g = indexGraph(model.graph!);
  const cands: { conv: string; reshape: string; after: string }[] = [];
  for (const node of g.nodes) {
    if (node.opType !== 'Conv') continue;
    const out = node.output![0];
    for (const c of g.consumers.get(out) ?? []) {
      if (c.opType !== 'Reshape') continue;
      const t = (g.consumers.get(c.output![0]) ?? []).find((n) => n.opType === 'Transpose');
      if (t) cands.push({ conv: out, reshape: c.output![0], after: t.output![0] });
    }
  }
  if (!cands.length) {
    throw new QatLensError('no YOLOv5-style detection head found (a Conv whose output is reshaped to [batch, anchors, 5 + classes, ny, nx] and transposed): QC supports anchor-based YOLOv5/YOLOv7 exports', file, 'EHEAD');
  }
  // Anchor-grid candidates: static or computed operands of Muls in the decode after each head.
  const mulOperands = new Map<string, string[]>();
  for (const c of cands) {
    const ops: string[] = [];
    const down = downstream(g, c.after, 12);
    const fromHead = new Set([c.after, ...down.flatMap((d) => d.output ?? [])]);
    for (const n of down) {
      if (n.opType !== 'Mul') continue;
      for (const i of n.input ?? []) if (i && !fromHead.has(i)) ops.push(i);
    }
    mulOperands.set(c.conv, ops);
  }
  // Constant operands are read as they are; computed ones (and the head shapes) from one probe run.
  const probe: Record<string, { dims: number[]; data: ArrayLike<number> }> = {};
  const computed: string[] = cands.map((c) => c.reshape);
  for (const name of new Set([...mulOperands.values()].flat())) {
    const t = g.constant(name);
    if (t) probe[name] = { dims: tensorShape(t), data: tensorToFloat64(t, file) };
    else if (g.producer.has(name)) computed.push(name);
  }
  Object.assign(probe, await probeValues(model, [...new Set(computed)], imgsz));
  const heads = cands.map((c) => {
    const s = probe[c.reshape].dims;
    if (s.length !== 5) return undefined;
    const [, na, no, ny, nx] = s;
    let anchors: number[] | undefined;
    for (const name of mulOperands.get(c.conv) ?? []) {
      const v = probe[name];
      if (!v || v.dims.length !== 5 || v.dims[1] !== na || v.dims[4] !== 2) continue;
      const [, , h, w] = v.dims;
      anchors = [];
      for (let a = 0; a < na; a++) { const o = a * h * w * 2; anchors.push(v.data[o], v.data[o + 1]); }
    }
    return { conv: c.conv, na, no, ny, nx, stride: imgsz[0] / ny, anchors };
  }).filter((h): h is NonNullable<typeof h> => !!h).sort((a, b) => a.stride - b.stride);
  if (!heads.length) throw new QatLensError('detection head found but its Reshape is not 5-D [batch, anchors, 5 + classes, ny, nx]', file, 'EHEAD');
  const na = heads[0].na, no = heads[0].no;
  if (heads.some((h) => h.na !== na || h.no !== no)) throw new QatLensError('detection heads disagree on anchors/classes per scale', file, 'EHEAD');
  const meta = Object.fromEntries((model.metadataProps ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  let anchors: number[][] | undefined = over.anchors;
  let anchorSource = 'the caller';
  if (!anchors && heads.every((h) => h.anchors)) { anchors = heads.map((h) => h.anchors!); anchorSource = 'the decode constants of the graph'; }
  if (!anchors && meta.anchors) {
    try { anchors = JSON.parse(meta.anchors); anchorSource = 'metadata_props "anchors"'; } catch { /* reported below */ }
  }
  if (!anchors || anchors.length !== heads.length || anchors.some((a) => a.length !== 2 * na)) {
    throw new QatLensError(`cannot find the anchors of the ${heads.length} detection heads (${na} per scale): neither in the decode constants nor in metadata_props "anchors"; give them as a setting (pixels per scale)`, file, 'EANCHORS');
  }
  const strides = over.strides ?? heads.map((h) => h.stride);
  return { outputs: heads.map((h) => h.conv), strides, anchors, na, nc: no - 5, anchorSource };
}

