// pycocotools' summarize(): the 12 numbers and the 12 printed lines; plus per-category AP/AP50
// and precision-recall curves read from the same precision array.
import { pIndex as pIndex_, rIndex as rIndex_, type CocoAccumulated } from './cocoAccumulate';
import { AREA_LBL, IOU_THRS, MAX_DETS, R, REC_THRS, T, type AreaLabel } from './cocoParams';
import { meanAboveMinusOne, pyFixed } from './numpyCompat';
import type { CocoCategoryAp, CocoCurves } from './cocoTypes';

const pIndex = pIndex_;
const rIndex = rIndex_;

interface Query {
  ap: boolean;
  iouThr?: number;
  area: AreaLabel;
  maxDets: number;
}

/** The 12 queries of _summarizeDets, in order. */
export const SUMMARY_QUERIES: Query[] = [
  { ap: true, area: 'all', maxDets: 100 },
  { ap: true, iouThr: 0.5, area: 'all', maxDets: 100 },
  { ap: true, iouThr: 0.75, area: 'all', maxDets: 100 },
  { ap: true, area: 'small', maxDets: 100 },
  { ap: true, area: 'medium', maxDets: 100 },
  { ap: true, area: 'large', maxDets: 100 },
  { ap: false, area: 'all', maxDets: 1 },
  { ap: false, area: 'all', maxDets: 10 },
  { ap: false, area: 'all', maxDets: 100 },
  { ap: false, area: 'small', maxDets: 100 },
  { ap: false, area: 'medium', maxDets: 100 },
  { ap: false, area: 'large', maxDets: 100 },
];

function summarizeOne(acc: CocoAccumulated, q: Query, buf: Float64Array): number {
  const K = acc.K;
  // np.where(iouThr == iouThrs): exact equality, as pycocotools selects the threshold.
  const ts = q.iouThr === undefined ? [...Array(T).keys()] : [...Array(T).keys()].filter((t) => IOU_THRS[t] === q.iouThr);
  const a = AREA_LBL.indexOf(q.area);
  const m = MAX_DETS.indexOf(q.maxDets as (typeof MAX_DETS)[number]);
  let n = 0;
  // Gather in numpy's C order (t, r, k) / (t, k) so the pairwise sum adds in the same order.
  if (q.ap) {
    for (const t of ts) for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) buf[n++] = acc.precision[pIndex(K, t, r, k, a, m)];
  } else {
    for (const t of ts) for (let k = 0; k < K; k++) buf[n++] = acc.recall[rIndex(K, t, k, a, m)];
  }
  return meanAboveMinusOne(buf, n);
}

/** One of the 12 summary numbers (index into SUMMARY_QUERIES); buf holds at least T * R * K values. */
export function summaryStat(acc: CocoAccumulated, i: number, buf: Float64Array): number {
  return summarizeOne(acc, SUMMARY_QUERIES[i], buf);
}

export function summaryLine(q: Query, value: number): string {
  const title = q.ap ? 'Average Precision' : 'Average Recall';
  const type = q.ap ? '(AP)' : '(AR)';
  const iouStr = q.iouThr === undefined ? `${pyFixed(IOU_THRS[0], 2)}:${pyFixed(IOU_THRS[T - 1], 2)}` : pyFixed(q.iouThr, 2);
  return ` ${title.padEnd(18)} ${type} @[ IoU=${iouStr.padEnd(9)} | area=${q.area.padStart(6)} | maxDets=${String(q.maxDets).padStart(3)} ] = ${pyFixed(value, 3)}`;
}

export function summarize(acc: CocoAccumulated): { stats: number[]; summaryText: string } {
  const buf = new Float64Array(T * R * Math.max(acc.K, 1));
  const stats = SUMMARY_QUERIES.map((q) => summarizeOne(acc, q, buf));
  const summaryText = SUMMARY_QUERIES.map((q, i) => summaryLine(q, stats[i])).join('\n');
  return { stats, summaryText };
}

/** AP and AP50 per category (area all, 100 detections), the way Detectron2 and YOLOv5 read them
 *  from pycocotools' precision array: mean of the entries > -1. */
export function perCategoryAp(acc: CocoAccumulated, catIds: number[], catNames: string[]): Record<number, CocoCategoryAp> {
  const K = acc.K;
  const out: Record<number, CocoCategoryAp> = {};
  const buf = new Float64Array(T * R);
  const t50 = IOU_THRS.indexOf(0.5);
  for (let k = 0; k < K; k++) {
    let n = 0;
    for (let t = 0; t < T; t++) for (let r = 0; r < R; r++) buf[n++] = acc.precision[pIndex(K, t, r, k, 0, 2)];
    const ap = meanAboveMinusOne(buf, n);
    n = 0;
    for (let r = 0; r < R; r++) buf[n++] = acc.precision[pIndex(K, t50, r, k, 0, 2)];
    out[catIds[k]] = { name: catNames[k], ap, ap50: meanAboveMinusOne(buf, n) };
  }
  return out;
}

/** Precision at each recall threshold (area all, 100 detections), overall and per category. */
export function prCurves(acc: CocoAccumulated, catIds: number[]): CocoCurves {
  const K = acc.K;
  const t50 = IOU_THRS.indexOf(0.5);
  const buf = new Float64Array(T * Math.max(K, 1));
  const curve = (ts: number[], ks: number[]): number[] =>
    Array.from(REC_THRS, (_, r) => {
      let n = 0;
      for (const t of ts) for (const k of ks) buf[n++] = acc.precision[pIndex(K, t, r, k, 0, 2)];
      return meanAboveMinusOne(buf, n);
    });
  const allT = [...Array(T).keys()];
  const allK = [...Array(K).keys()];
  const c50: CocoCurves['iou50'] = { overall: curve([t50], allK), perCategory: {} };
  const cAll: CocoCurves['iou50to95'] = { overall: curve(allT, allK), perCategory: {} };
  for (let k = 0; k < K; k++) {
    c50.perCategory[catIds[k]] = curve([t50], [k]);
    cAll.perCategory[catIds[k]] = curve(allT, [k]);
  }
  return { recall: Array.from(REC_THRS), iou50: c50, iou50to95: cAll };
}
