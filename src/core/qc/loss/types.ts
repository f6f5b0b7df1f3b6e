// The detection-loss contract shared by every head family: the loss's value and its gradient with
// respect to the raw head outputs (the Detect convolutions' outputs, exactly as onnxruntime returns
// them), in plain TypeScript so the training graph stays free of data-dependent target assignment.

/** A raw head output, NCHW: [bs, na * no, ny, nx] (anchor-based) or [bs, 4 * regMax + nc, ny, nx] (anchor-free). */
export interface HeadTensor {
  data: Float32Array;
  shape: number[];
}

export interface LossValue {
  /** The scalar the family trains on (YOLOv5/v7: (lbox + lobj + lcls) * bs). */
  loss: number;
  /** Its gained components (lbox, lobj, lcls; v8: lbox, lcls, ldfl). */
  parts: Record<string, number>;
  /** dLoss/dHead, one per head, same layout as the heads. */
  grads: Float32Array[];
}

export interface DetectionLoss {
  readonly family: string;
  compute(heads: HeadTensor[], targets: Target[]): LossValue;
}

/** One labelled box: image index in the batch, class, and centre/size normalised to [0, 1] on the letterboxed canvas. */
export type Target = [image: number, cls: number, x: number, y: number, w: number, h: number];

export interface YoloLossConfig {
  /** Per scale, anchors in pixels as [w0, h0, w1, h1, ...] (YOLOv5's yaml order). */
  anchors: number[][];
  /** Per scale stride in pixels (8, 16, 32). */
  strides: number[];
  nc: number;
  /** Training image size (the obj gain scales with (imgsz / 640)^2). */
  imgsz: number;
  box?: number;
  obj?: number;
  cls?: number;
  anchorT?: number;
}

/** Anchor-free heads (YOLOv8/YOLO11): per scale [bs, 4 * regMax + nc, ny, nx]. Gains as ultralytics' default.yaml. */
export interface AnchorFreeLossConfig {
  /** Per scale stride in pixels (8, 16, 32). */
  strides: number[];
  nc: number;
  /** DFL bins per box side (16). */
  regMax?: number;
  box?: number;
  cls?: number;
  dfl?: number;
  /** TaskAlignedAssigner's candidates per target (10). */
  topk?: number;
}
