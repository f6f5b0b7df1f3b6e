// Which detection head layout a model's output has.
//   yolov5 (also YOLOv7): [batch, anchors, 5 + C]: x, y, w, h (input pixels), objectness, C class scores
//   yolov8:               [batch, 4 + C, anchors]: x, y, w, h, C class scores (no objectness)
import { QatLensError } from '../errors';
import { onnx, toNumber } from '../onnx/proto';
import type { DetectHeads } from './detectHead';

export type OutputLayout = 'yolov5' | 'yolov8';

export interface HeadShape {
  layout: OutputLayout;
  anchors: number;
  classes: number;
}

/**
 * Detect the layout from the output dims (batch first). With the class count known (model
 * metadata or the data set) the match is exact; otherwise the longer axis is the anchor axis.
 * `override` forces a layout.
 */
export function detectLayout(dims: readonly number[], numClasses?: number, override?: OutputLayout | 'auto', what = 'model output'): HeadShape {
  if (dims.length !== 3) throw new QatLensError(`${what} has shape [${dims.join(', ')}]; expected [batch, anchors, 5+classes] (YOLOv5/v7) or [batch, 4+classes, anchors] (YOLOv8)`);
  const [, d1, d2] = dims;
  const as = (layout: OutputLayout): HeadShape => {
    const h = layout === 'yolov5' ? { layout, anchors: d1, classes: d2 - 5 } : { layout, anchors: d2, classes: d1 - 4 };
    if (h.classes < 1) throw new QatLensError(`${what} has shape [${dims.join(', ')}], too few channels for the ${layout} layout`);
    return h;
  };
  if (override && override !== 'auto') return as(override);
  if (numClasses !== undefined) {
    const v5 = d2 === 5 + numClasses,
      v8 = d1 === 4 + numClasses;
    if (v5 && !v8) return as('yolov5');
    if (v8 && !v5) return as('yolov8');
  }
  return as(d1 >= d2 ? 'yolov5' : 'yolov8');
}

/**
 * A raw-head export (per scale [b, na, ny, nx, 5 + C], no decode) with YOLOv5's decode appended as
 * ONNX nodes: sigmoid, xy = (2σ + cell - 0.5)·stride, wh = (2σ)²·anchor, rows concatenated scale by
 * scale in (anchor, y, x) order into one [b, N, 5 + C] output, as YOLOv5/v7's Detect writes them. In
 * the graph rather than in JavaScript so the sigmoid is onnxruntime's own: with power-of-two strides
 * the boxes equal those of the same model exported with its decode (YOLOv5's or YOLOv7's form) bit
 * for bit, and GPU engines decode too.
 */
export function appendAnchorDecode(model: onnx.IModelProto, heads: DetectHeads): { model: onnx.ModelProto; output: string } {
  if (!heads.rawOutputs || heads.anchorFree) throw new QatLensError('appendAnchorDecode: not a raw anchor-based export');
  const g = model.graph!;
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 13);
  const P = 'qat_lens_decode/';
  const inits: onnx.ITensorProto[] = [];
  const nodes: onnx.INodeProto[] = [];
  const f32 = (name: string, dims: number[], vals: number[]) => {
    inits.push({ name: P + name, dataType: 1, dims, floatData: vals });
    return P + name;
  };
  const i64 = (name: string, vals: number[]) => {
    inits.push({ name: P + name, dataType: 7, dims: [vals.length], int64Data: vals });
    return P + name;
  };
  const node = (op: string, inputs: string[], outputs: string[], attribute: onnx.IAttributeProto[] = []) => {
    nodes.push({ opType: op, name: P + outputs[0], input: inputs, output: outputs.map((o) => P + o), attribute });
    return outputs.map((o) => P + o);
  };
  const { na, no } = heads;
  const two = f32('two', [], [2]);
  const rowShape = i64('rows', [0, -1, no]);
  const rows: string[] = [];
  heads.rawOutputs.forEach((raw, i) => {
    const [ny, nx] = heads.grids[i];
    const grid: number[] = [];
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) grid.push(x - 0.5, y - 0.5);
    const gridT = f32(`grid${i}`, [1, 1, ny, nx, 2], grid);
    const stride = f32(`stride${i}`, [], [heads.strides[i]]);
    const anchor = f32(`anchor${i}`, [1, na, 1, 1, 2], heads.anchors[i]);
    const [sig] = node('Sigmoid', [raw], [`sig${i}`]);
    const splitAttr: onnx.IAttributeProto[] = [{ name: 'axis', type: 2, i: 4 }];
    const parts = [`xy${i}`, `wh${i}`, `conf${i}`];
    const [xy, wh, conf] =
      opset >= 13 ? node('Split', [sig, i64(`split${i}`, [2, 2, no - 4])], parts, splitAttr) : node('Split', [sig], parts, [...splitAttr, { name: 'split', type: 7, ints: [2, 2, no - 4] }]);
    const [xy2] = node('Mul', [xy, two], [`xy2_${i}`]);
    const [xy3] = node('Add', [xy2, gridT], [`xy3_${i}`]);
    const [xy4] = node('Mul', [xy3, stride], [`xy4_${i}`]);
    const [wh2] = node('Mul', [wh, two], [`wh2_${i}`]);
    const [wh3] = node('Pow', [wh2, two], [`wh3_${i}`]);
    const [wh4] = node('Mul', [wh3, anchor], [`wh4_${i}`]);
    const [y] = node('Concat', [xy4, wh4, conf], [`y${i}`], [{ name: 'axis', type: 2, i: 4 }]);
    rows.push(node('Reshape', [y, rowShape], [`rows${i}`])[0]);
  });
  const [output] = node('Concat', rows, ['output'], [{ name: 'axis', type: 2, i: 1 }]);
  const N = heads.grids.reduce((s, [ny, nx]) => s + na * ny * nx, 0);
  // Shallow copies: the weights are shared with the input model, never copied.
  const outInfo = { name: output, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: N }, { dimValue: no }] } } } };
  const out = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({ ...g, node: [...(g.node ?? []), ...nodes], initializer: [...(g.initializer ?? []), ...inits], output: [outInfo] }),
  });
  return { model: out, output };
}
