// YOLOv5's non_max_suppression as used for validation (utils/general.py): candidates with
// objectness > conf, score = obj * cls (multi-label: every class above conf is a candidate),
// xywh -> xyxy, the top max_nms by score, class-aware greedy NMS (torchvision.ops.nms on boxes
// offset by class * max_wh, in float32), the first max_det kept. YOLOv8-style outputs have no
// objectness: score = cls.
// Speed: one pass to collect candidates into typed arrays, one sort, and each candidate is
// compared only with kept boxes of its own class (offset boxes of different classes never
// overlap, so this is the same result as comparing with all of them).
import type { OutputLayout } from './decode';

export interface NmsOptions {
  confThreshold: number;
  iouThreshold: number;
  maxDetections: number;
  multiLabel: boolean;
  agnostic: boolean;
  /** Class offset for class-aware NMS (YOLOv5: 7680). */
  maxWh: number;
  /** Candidates kept (by score) before NMS (YOLOv5: 30000). */
  maxNms: number;
}

export const NMS_DEFAULTS: NmsOptions = { confThreshold: 0.001, iouThreshold: 0.6, maxDetections: 300, multiLabel: true, agnostic: false, maxWh: 7680, maxNms: 30000 };

export interface Detections {
  count: number;
  /** [count*4] x1, y1, x2, y2 in network-input pixels (map back with boxesToOriginal). */
  boxes: Float32Array;
  scores: Float32Array;
  /** Model class index. */
  classes: Int32Array;
}

const f = Math.fround;

/**
 * NMS for one image. `pred` holds the raw output of the whole batch; `offset` is where this
 * image's anchors start. Layout yolov5: [anchors, 5 + C] rows; yolov8: [4 + C, anchors] planes.
 */
export function nonMaxSuppression(pred: Float32Array, offset: number, anchors: number, classes: number, layout: OutputLayout, o: NmsOptions = NMS_DEFAULTS): Detections {
  const v5 = layout === 'yolov5';
  const rowLen = v5 ? 5 + classes : 4 + classes;
  // Element (anchor a, channel k).
  const at = v5 ? (a: number, k: number) => pred[offset + a * rowLen + k] : (a: number, k: number) => pred[offset + k * anchors + a];
  const clsBase = v5 ? 5 : 4;
  const conf = o.confThreshold;
  let cap = 1024;
  let cAnchor = new Int32Array(cap), cClass = new Int32Array(cap), cScore = new Float32Array(cap);
  let n = 0;
  const push = (a: number, c: number, s: number) => {
    if (n === cap) {
      cap *= 2;
      const a2 = new Int32Array(cap); a2.set(cAnchor); cAnchor = a2;
      const c2 = new Int32Array(cap); c2.set(cClass); cClass = c2;
      const s2 = new Float32Array(cap); s2.set(cScore); cScore = s2;
    }
    cAnchor[n] = a; cClass[n] = c; cScore[n] = s; n++;
  };
  for (let a = 0; a < anchors; a++) {
    const obj = v5 ? at(a, 4) : 1;
    if (v5 && !(obj > conf)) continue;
    if (o.multiLabel) {
      for (let c = 0; c < classes; c++) {
        const s = v5 ? f(at(a, clsBase + c) * obj) : at(a, clsBase + c);
        if (s > conf) push(a, c, s);
      }
    } else {
      let best = -Infinity, bc = 0;
      for (let c = 0; c < classes; c++) {
        const s = v5 ? f(at(a, clsBase + c) * obj) : at(a, clsBase + c);
        if (s > best) { best = s; bc = c; }
      }
      if (best > conf) push(a, bc, best);
    }
  }
  // One sort by score (descending; ties by candidate order, so results are deterministic).
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((i, j) => cScore[j] - cScore[i] || i - j);
  const m = Math.min(n, o.maxNms);

  const outBoxes = new Float32Array(o.maxDetections * 4), outScores = new Float32Array(o.maxDetections), outClasses = new Int32Array(o.maxDetections);
  // Kept boxes per class (offset coordinates, as torchvision sees them) for the overlap test.
  const keptByClass = new Map<number, number[]>();
  const kx1: number[] = [], ky1: number[] = [], kx2: number[] = [], ky2: number[] = [], karea: number[] = [];
  let kept = 0;
  for (let r = 0; r < m && kept < o.maxDetections; r++) {
    const i = order[r];
    const a = cAnchor[i], c = cClass[i];
    const cx = at(a, 0), cy = at(a, 1), w = at(a, 2), h = at(a, 3);
    const hw = f(w / 2), hh = f(h / 2);
    const x1 = f(cx - hw), y1 = f(cy - hh), x2 = f(cx + hw), y2 = f(cy + hh);
    const off = o.agnostic ? 0 : f(c * o.maxWh);
    const bx1 = f(x1 + off), by1 = f(y1 + off), bx2 = f(x2 + off), by2 = f(y2 + off);
    const area = f(f(bx2 - bx1) * f(by2 - by1));
    const key = o.agnostic ? 0 : c;
    let list = keptByClass.get(key);
    let suppressed = false;
    if (list) {
      for (let t = 0; t < list.length; t++) {
        const k = list[t];
        const xx1 = Math.max(bx1, kx1[k]), yy1 = Math.max(by1, ky1[k]);
        const xx2 = Math.min(bx2, kx2[k]), yy2 = Math.min(by2, ky2[k]);
        const iw = Math.max(0, f(xx2 - xx1)), ih = Math.max(0, f(yy2 - yy1));
        const inter = f(iw * ih);
        const iou = f(inter / f(f(karea[k] + area) - inter));
        if (iou > o.iouThreshold) { suppressed = true; break; }
      }
    } else {
      list = [];
      keptByClass.set(key, list);
    }
    if (suppressed) continue;
    list.push(kx1.length);
    kx1.push(bx1); ky1.push(by1); kx2.push(bx2); ky2.push(by2); karea.push(area);
    outBoxes[kept * 4] = x1; outBoxes[kept * 4 + 1] = y1; outBoxes[kept * 4 + 2] = x2; outBoxes[kept * 4 + 3] = y2;
    outScores[kept] = cScore[i];
    outClasses[kept] = c;
    kept++;
  }
  return { count: kept, boxes: outBoxes.subarray(0, kept * 4), scores: outScores.subarray(0, kept), classes: outClasses.subarray(0, kept) };
}
