// What head discovery (detectHead.ts) finds: the family, the raw head outputs, strides and anchors.
// Apart from detectHead.ts so report text (headText.ts) can use the types without onnxruntime.

export type HeadFamily = 'yolov5' | 'yolov7' | 'yolov5/v7' | 'yolov8';

/** Anchors given from outside the graph (flag, setting, yaml, .pt, metadata) and where from. */
export interface GivenAnchors {
  anchors: number[][];
  source: string;
}

export interface DetectHeads {
  family: HeadFamily;
  anchorFree: boolean;
  /** Raw Detect conv outputs (what the loss sees), one per scale, smallest stride first. */
  outputs: string[];
  /** [ny, nx] of each head at `imgsz`. */
  grids: [number, number][];
  strides: number[];
  /** Per scale, anchors in pixels [w0, h0, w1, h1, ...]; empty for anchor-free heads. */
  anchors: number[][];
  /** Anchors per cell (1 for anchor-free heads). */
  na: number;
  nc: number;
  /** Channels per anchor of a head: 5 + nc (anchor-based) or 4·regMax + nc (anchor-free). */
  no: number;
  regMax?: number;
  /** 'graph': the model decodes (into `output`); 'none': raw outputs (`rawOutputs`), the pipeline decodes. */
  decode: 'graph' | 'none';
  output?: string;
  /** A raw export's [b, na, ny, nx, no] outputs, in the order of `outputs`. */
  rawOutputs?: string[];
  /** Where the anchors came from, for reports. */
  anchorSource: string;
  imgsz: [number, number];
}
