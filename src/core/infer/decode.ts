// Which detection head layout a model's output has.
//   yolov5 (also YOLOv7): [batch, anchors, 5 + C]: x, y, w, h (input pixels), objectness, C class scores
//   yolov8:               [batch, 4 + C, anchors]: x, y, w, h, C class scores (no objectness)
import { QatLensError } from '../errors';

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
    const v5 = d2 === 5 + numClasses, v8 = d1 === 4 + numClasses;
    if (v5 && !v8) return as('yolov5');
    if (v8 && !v5) return as('yolov8');
  }
  return as(d1 >= d2 ? 'yolov5' : 'yolov8');
}
