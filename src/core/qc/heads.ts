// What QC needs to know about a detector graph: its quantized layers (a Conv/Gemm whose weight
// comes from DequantizeLinear) and its raw detection heads (the per-scale Detect conv outputs), with
// anchors and strides, as src/core/infer/detectHead.ts finds them.
import { findDetectHeads, type GivenAnchors, type HeadFamily } from '../infer/detectHead';
import { attrInt, type GraphIndex } from '../onnx/graph';
import { type onnx, tensorShape } from '../onnx/proto';
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
  /** Per scale anchors in pixels [w0, h0, w1, h1, ...]; empty for anchor-free heads. */
  anchors: number[][];
  na: number;
  nc: number;
  /** Where the anchors came from (the evaluated decode, a flag, setting, yaml, checkpoint or metadata). */
  anchorSource: string;
  /** yolov5, yolov7, yolov5/v7 (a raw export) or yolov8 (anchor-free). */
  family: HeadFamily;
  /** DFL bins of an anchor-free head. */
  regMax?: number;
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
      name: g.name(node),
      op: node.opType as 'Conv' | 'Gemm',
      output: node.output![0],
      channels: tensorShape(w.tensor)[0],
      dq: g.name(w.dq),
      perTensor: !scale || tensorShape(scale).reduce((a, b) => a * b, 1) === 1,
    });
  }
  return out;
}

export interface HeadOverrides {
  given?: GivenAnchors;
}

/**
 * The raw Detect conv outputs, anchors and strides: src/core/infer/detectHead.ts finds them by
 * evaluating the graph's decode (YOLOv5/YOLOv7 forms, YOLOv8's DFL decode), or takes the anchors
 * given for a raw-head export.
 */
export async function findHeads(model: onnx.IModelProto, file: string, imgsz: [number, number], over: HeadOverrides = {}): Promise<HeadSpec> {
  const h = await findDetectHeads(model, file, imgsz, over.given);
  return {
    outputs: h.outputs,
    strides: h.strides,
    anchors: h.anchors,
    na: h.na,
    nc: h.nc,
    anchorSource: h.anchorSource,
    family: h.family,
    ...(h.anchorFree ? { regMax: h.regMax } : {}),
  };
}
