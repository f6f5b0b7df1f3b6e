// What QC needs to know about a detector graph: its quantized layers (a Conv/Gemm whose weight
// comes from DequantizeLinear) and its raw detection heads (the per-scale Conv outputs that YOLOv5's
// Detect reshapes to [b, na, 5 + nc, ny, nx] before the sigmoid decode), with anchors and strides.
import * as tf from '@tensorflow/tfjs-core';
import { QatLensError } from '../errors';
import { nodeName } from '../onnx/graph';
import { type NodeInfo, type TfGraph, attrInt } from './tfGraph';

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

export function findQuantLayers(g: TfGraph): QuantLayer[] {
  const out: QuantLayer[] = [];
  g.nodes.forEach((node, index) => {
    if (node.opType !== 'Conv' && node.opType !== 'Gemm') return;
    const w = node.input?.[1];
    const p = w ? g.producer.get(w) : undefined;
    if (!p || p.node.opType !== 'DequantizeLinear') return;
    if (node.opType === 'Gemm' && attrInt(Object.fromEntries((node.attribute ?? []).map((a) => [a.name!, a])), 'transB', 0) !== 1) return;
    const wShape = g.statics.get(w!)?.shape;
    if (!wShape) return;
    const scale = g.statics.get(p.node.input![1]);
    out.push({
      name: nodeName(node, index), op: node.opType as 'Conv' | 'Gemm', output: node.output![0],
      channels: wShape[0], dq: p.name, perTensor: !scale || scale.data.length === 1,
    });
  });
  return out;
}

const downstream = (g: TfGraph, value: string, depth: number): NodeInfo[] => {
  const seen = new Set<number>();
  const res: NodeInfo[] = [];
  let frontier = [value];
  for (let d = 0; d < depth && frontier.length; d++) {
    const next: string[] = [];
    for (const v of frontier) for (const c of g.consumers.get(v) ?? []) {
      if (seen.has(c.index)) continue;
      seen.add(c.index);
      res.push(c);
      next.push(...(c.node.output ?? []));
    }
    frontier = next;
  }
  return res;
};

export interface HeadOverrides { anchors?: number[][]; strides?: number[] }

/**
 * Find the heads: a Conv whose output goes (directly) into a Reshape to 5-D [b, na, no, ny, nx]
 * followed by a Transpose to [b, na, ny, nx, no]. One probe forward at `imgsz` reads the shapes and
 * the anchor-grid operands of the decode (a Mul by a [1, na, *, *, 2] tensor after the wh Pow).
 */
export async function findHeads(g: TfGraph, imgsz: [number, number], over: HeadOverrides = {}): Promise<HeadSpec> {
  const cands: { conv: string; reshape: string; after: string }[] = [];
  for (const node of g.nodes) {
    if (node.opType !== 'Conv') continue;
    const out = node.output![0];
    for (const c of g.consumers.get(out) ?? []) {
      if (c.node.opType !== 'Reshape') continue;
      const t = (g.consumers.get(c.node.output![0]) ?? []).find((n) => n.node.opType === 'Transpose');
      if (t) cands.push({ conv: out, reshape: c.node.output![0], after: t.node.output![0] });
    }
  }
  if (!cands.length) {
    throw new QatLensError('no YOLOv5-style detection head found (a Conv whose output is reshaped to [batch, anchors, 5 + classes, ny, nx] and transposed): QC supports anchor-based YOLOv5/YOLOv7 exports', g.file, 'EHEAD');
  }
  // Anchor-grid candidates: static or computed operands of Muls in the decode after each head.
  const mulOperands = new Map<string, string[]>();
  for (const c of cands) {
    const ops: string[] = [];
    const down = downstream(g, c.after, 12);
    const fromHead = new Set([c.after, ...down.flatMap((d) => d.node.output ?? [])]);
    for (const n of down) {
      if (n.node.opType !== 'Mul') continue;
      for (const i of n.node.input ?? []) if (i && !fromHead.has(i)) ops.push(i);
    }
    mulOperands.set(c.conv, ops);
  }
  const want = [...new Set([...cands.map((c) => c.reshape), ...[...mulOperands.values()].flat()])];
  const outs = tf.tidy(() => {
    const feeds: Record<string, tf.Tensor> = {};
    for (const inp of g.inputs) feeds[inp.name] = tf.zeros([1, 3, imgsz[0], imgsz[1]]);
    return g.run(feeds, { outputs: want });
  });
  // Asynchronous reads: WebGPU has no synchronous read-back of GPU tensors.
  const probe: Record<string, { shape: number[]; data: number[] }> = {};
  for (const [k, v] of Object.entries(outs)) {
    probe[k] = { shape: v.shape, data: v.shape.length === 5 && v.shape[4] === 2 ? Array.from(await v.data()) : [] };
  }
  tf.dispose(Object.values(outs));
  const heads = cands.map((c) => {
    const s = probe[c.reshape].shape;
    if (s.length !== 5) return undefined;
    const [, na, no, ny, nx] = s;
    let anchors: number[] | undefined;
    for (const name of mulOperands.get(c.conv) ?? []) {
      const v = probe[name];
      if (!v || v.shape.length !== 5 || v.shape[1] !== na || v.shape[4] !== 2) continue;
      const [, , h, w] = v.shape;
      anchors = [];
      for (let a = 0; a < na; a++) { const o = a * h * w * 2; anchors.push(v.data[o], v.data[o + 1]); }
    }
    return { conv: c.conv, na, no, ny, nx, stride: imgsz[0] / ny, anchors };
  }).filter((h): h is NonNullable<typeof h> => !!h).sort((a, b) => a.stride - b.stride);
  if (!heads.length) throw new QatLensError('detection head found but its Reshape is not 5-D [batch, anchors, 5 + classes, ny, nx]', g.file, 'EHEAD');
  const na = heads[0].na, no = heads[0].no;
  if (heads.some((h) => h.na !== na || h.no !== no)) throw new QatLensError('detection heads disagree on anchors/classes per scale', g.file, 'EHEAD');
  const meta = g.metadata();
  let anchors: number[][] | undefined = over.anchors;
  let anchorSource = 'the caller';
  if (!anchors && heads.every((h) => h.anchors)) { anchors = heads.map((h) => h.anchors!); anchorSource = 'the decode constants of the graph'; }
  if (!anchors && meta.anchors) {
    try { anchors = JSON.parse(meta.anchors); anchorSource = 'metadata_props "anchors"'; } catch { /* reported below */ }
  }
  if (!anchors || anchors.length !== heads.length || anchors.some((a) => a.length !== 2 * na)) {
    throw new QatLensError(`cannot find the anchors of the ${heads.length} detection heads (${na} per scale): neither in the decode constants nor in metadata_props "anchors"; give them as a setting (pixels per scale)`, g.file, 'EANCHORS');
  }
  const strides = over.strides ?? heads.map((h) => h.stride);
  return { outputs: heads.map((h) => h.conv), strides, anchors, na, nc: no - 5, anchorSource };
}

