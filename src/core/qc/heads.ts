// What QC needs to know about a detector graph: its quantized layers (a Conv/Gemm whose weight
// comes from DequantizeLinear) and its raw detection heads (the per-scale Detect conv outputs), with
// anchors and strides.
import { QatLensError } from '../errors';
import { findDetectHeads, type GivenAnchors, type HeadFamily } from '../infer/detectHead';
import { type TfGraph, attrInt } from './tfGraph';

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
  /** Where the anchors came from (the evaluated decode, a flag, setting, yaml, checkpoint or metadata). */
  anchorSource: string;
  /** yolov5, yolov7 or yolov5/v7 (a raw export). */
  family: HeadFamily;
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
      name: node.name || `${node.opType}#${index}`, op: node.opType as 'Conv' | 'Gemm', output: node.output![0],
      channels: wShape[0], dq: p.name, perTensor: !scale || scale.data.length === 1,
    });
  });
  return out;
}

export interface HeadOverrides { given?: GivenAnchors }

/**
 * The raw Detect conv outputs, anchors and strides: src/core/infer/detectHead.ts finds them by
 * evaluating the graph's decode (any YOLOv5/YOLOv7 form), or takes the anchors given for a raw-head
 * export. QC's loss is YOLOv5's: anchor-free heads are refused here.
 */
export async function findHeads(g: TfGraph, imgsz: [number, number], over: HeadOverrides = {}): Promise<HeadSpec> {
  const h = await findDetectHeads(g.model, g.file, imgsz, over.given);
  if (h.anchorFree) {
    throw new QatLensError(`the model has an anchor-free ${h.family} head (DFL, reg_max ${h.regMax}): QC trains with YOLOv5's anchor-based loss, and the YOLOv8 loss (task-aligned assigner, DFL) is not wired into QC yet`, g.file, 'EHEAD');
  }
  return { outputs: h.outputs, strides: h.strides, anchors: h.anchors, na: h.na, nc: h.nc, anchorSource: h.anchorSource, family: h.family };
}
