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
  // Candidates go into module-level buffers that grow as needed (no per-image allocation).
  let n = 0;
  const aStride = v5 ? rowLen : 1,
    kStride = v5 ? 1 : anchors;
  for (let a = 0; a < anchors; a++) {
    const base = offset + a * aStride;
    const obj = v5 ? pred[base + 4] : 1;
    if (v5 && !(obj > conf)) continue;
    const cb = base + clsBase * kStride;
    if (n + classes > bufCap) grow(n + classes);
    if (o.multiLabel) {
      if (v5) {
        for (let c = 0; c < classes; c++) {
          const s = f(pred[cb + c] * obj);
          if (s > conf) {
            bufAnchor[n] = a;
            bufClass[n] = c;
            bufScore[n] = s;
            n++;
          }
        }
      } else {
        for (let c = 0; c < classes; c++) {
          const s = pred[cb + c * kStride];
          if (s > conf) {
            bufAnchor[n] = a;
            bufClass[n] = c;
            bufScore[n] = s;
            n++;
          }
        }
      }
    } else {
      let best = -Infinity,
        bc = 0;
      for (let c = 0; c < classes; c++) {
        const s = v5 ? f(pred[cb + c] * obj) : pred[cb + c * kStride];
        if (s > best) {
          best = s;
          bc = c;
        }
      }
      if (best > conf) {
        bufAnchor[n] = a;
        bufClass[n] = bc;
        bufScore[n] = best;
        n++;
      }
    }
  }
  const cAnchor = bufAnchor,
    cClass = bufClass,
    cScore = bufScore;
  // The top max_nms by score, sorted descending (ties by candidate order: deterministic).
  const order = topOrder(cScore, n, o.maxNms);
  const m = order.length;

  const outBoxes = new Float32Array(o.maxDetections * 4),
    outScores = new Float32Array(o.maxDetections),
    outClasses = new Int32Array(o.maxDetections);
  // Kept boxes per class (offset coordinates, as torchvision sees them) for the overlap test.
  const keptByClass = new Map<number, number[]>();
  const kx1: number[] = [],
    ky1: number[] = [],
    kx2: number[] = [],
    ky2: number[] = [],
    karea: number[] = [];
  let kept = 0;
  for (let r = 0; r < m && kept < o.maxDetections; r++) {
    const i = order[r];
    const a = cAnchor[i],
      c = cClass[i];
    const cx = at(a, 0),
      cy = at(a, 1),
      w = at(a, 2),
      h = at(a, 3);
    const hw = f(w / 2),
      hh = f(h / 2);
    const x1 = f(cx - hw),
      y1 = f(cy - hh),
      x2 = f(cx + hw),
      y2 = f(cy + hh);
    const off = o.agnostic ? 0 : f(c * o.maxWh);
    const bx1 = f(x1 + off),
      by1 = f(y1 + off),
      bx2 = f(x2 + off),
      by2 = f(y2 + off);
    const area = f(f(bx2 - bx1) * f(by2 - by1));
    const key = o.agnostic ? 0 : c;
    let list = keptByClass.get(key);
    let suppressed = false;
    if (list) {
      for (let t = 0; t < list.length; t++) {
        const k = list[t];
        const xx1 = Math.max(bx1, kx1[k]),
          yy1 = Math.max(by1, ky1[k]);
        const xx2 = Math.min(bx2, kx2[k]),
          yy2 = Math.min(by2, ky2[k]);
        const iw = Math.max(0, f(xx2 - xx1)),
          ih = Math.max(0, f(yy2 - yy1));
        const inter = f(iw * ih);
        const iou = f(inter / f(f(karea[k] + area) - inter));
        if (iou > o.iouThreshold) {
          suppressed = true;
          break;
        }
      }
    } else {
      list = [];
      keptByClass.set(key, list);
    }
    if (suppressed) continue;
    list.push(kx1.length);
    kx1.push(bx1);
    ky1.push(by1);
    kx2.push(bx2);
    ky2.push(by2);
    karea.push(area);
    outBoxes[kept * 4] = x1;
    outBoxes[kept * 4 + 1] = y1;
    outBoxes[kept * 4 + 2] = x2;
    outBoxes[kept * 4 + 3] = y2;
    outScores[kept] = cScore[i];
    outClasses[kept] = c;
    kept++;
  }
  return { count: kept, boxes: outBoxes.subarray(0, kept * 4), scores: outScores.subarray(0, kept), classes: outClasses.subarray(0, kept) };
}

const KEY_SHIFT = 2 ** 21; // candidate indices below 2^21 (25200 anchors x 80 classes fits)
const scoreBits = new Uint32Array(1);
const scoreF = new Float32Array(scoreBits.buffer);

/** Candidate indices by score descending, ties by index ascending. */
export function sortByScore(scores: Float32Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  if (n < KEY_SHIFT) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      scoreF[0] = scores[i];
      keys[i] = scoreBits[0] * KEY_SHIFT + (KEY_SHIFT - 1 - i); // exact: < 2^53
    }
    keys.sort();
    for (let r = 0; r < n; r++) order[r] = KEY_SHIFT - 1 - (keys[n - 1 - r] % KEY_SHIFT);
    return order;
  }
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((i, j) => scores[j] - scores[i] || i - j);
}

let bufCap = 0;
let bufAnchor = new Int32Array(0),
  bufClass = new Int32Array(0),
  bufScore = new Float32Array(0);
function grow(need: number): void {
  const cap = Math.max(need, bufCap * 2, 4096);
  const a = new Int32Array(cap);
  a.set(bufAnchor);
  bufAnchor = a;
  const c = new Int32Array(cap);
  c.set(bufClass);
  bufClass = c;
  const s = new Float32Array(cap);
  s.set(bufScore);
  bufScore = s;
  bufCap = cap;
}

/**
 * Indices of the k highest of scores[0..n), by score descending, ties by index. Above k
 * candidates, a histogram of the float bits' top 16 bits (order-preserving for positive floats)
 * finds the bucket holding the k-th score in one pass; only candidates from that bucket up are sorted.
 */
export function topOrder(scores: Float32Array, n: number, k: number): Uint32Array {
  if (n <= k) return sortByScore(scores, n);
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
  const hist = new Uint32Array(65536);
  for (let i = 0; i < n; i++) hist[bits[i] >>> 16]++;
  let tb = 65535,
    acc = 0;
  for (; tb > 0; tb--) {
    acc += hist[tb];
    if (acc >= k) break;
  }
  if (tb === 0) acc += hist[0];
  const sel = new Uint32Array(acc);
  const sub = new Float32Array(acc);
  let w = 0;
  for (let i = 0; i < n; i++)
    if (bits[i] >>> 16 >= tb) {
      sel[w] = i;
      sub[w] = scores[i];
      w++;
    }
  const so = sortByScore(sub, w);
  const out = new Uint32Array(k);
  for (let r = 0; r < k; r++) out[r] = sel[so[r]];
  return out;
}
