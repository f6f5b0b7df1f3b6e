// Ground truth and detections grouped by (category, image) into flat typed arrays, in the order
// pycocotools collects them: cells k-major over sorted category ids, then sorted image ids; inside a
// cell, annotations in file order (gt) and detections in results-file order (dt).
import type { CocoDet, CocoGt } from '../data/coco';

export interface CocoIndex {
  imgIds: number[];
  catIds: number[];
  catNames: string[];
  /** Cell c = k * I + i holds gt [gtStart[c], gtStart[c+1]) and dt [dtStart[c], dtStart[c+1]). */
  gtStart: Int32Array;
  dtStart: Int32Array;
  /** x, y, w, h per entry. */
  gtBox: Float64Array;
  gtArea: Float64Array;
  gtCrowd: Uint8Array;
  /** pycocotools records a match as the gt's id and later tests it for truth: id 0 reads as "unmatched". */
  gtIdNonzero: Uint8Array;
  dtBox: Float64Array;
  dtScore: Float64Array;
  /** w * h, as loadRes sets it. */
  dtArea: Float64Array;
  warnings: string[];
  nGt: number;
  nDt: number;
}

/** Sorted unique values, as np.unique returns them. */
function uniqueSorted(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

export function buildIndex(gt: CocoGt, dets: CocoDet[], imgIdsOpt?: number[]): CocoIndex {
  const warnings: string[] = [];
  const imgIds = uniqueSorted(imgIdsOpt ?? gt.images.map((im) => im.id));
  const catIds = uniqueSorted(gt.categories.map((c) => c.id));
  const nameOf = new Map<number, string>();
  for (const c of gt.categories) if (!nameOf.has(c.id)) nameOf.set(c.id, typeof c.name === 'string' ? c.name : String(c.id));
  const catNames = catIds.map((id) => nameOf.get(id)!);
  const I = imgIds.length;
  const K = catIds.length;
  const imgIndex = new Map<number, number>();
  imgIds.forEach((id, i) => imgIndex.set(id, i));
  const catIndex = new Map<number, number>();
  catIds.forEach((id, k) => catIndex.set(id, k));
  const cells = K * I;

  // Cell of every annotation (-1: not evaluated, as pycocotools' getAnnIds filters it out).
  const anns = gt.annotations;
  const gtCell = new Int32Array(anns.length);
  const gtCount = new Int32Array(cells + 1);
  let gtUnknownCat = 0;
  for (let j = 0; j < anns.length; j++) {
    const i = imgIndex.get(anns[j].image_id);
    const k = catIndex.get(anns[j].category_id);
    if (k === undefined) gtUnknownCat++;
    const c = i === undefined || k === undefined ? -1 : k * I + i;
    gtCell[j] = c;
    if (c >= 0) gtCount[c + 1]++;
  }
  if (gtUnknownCat) warnings.push(`${gtUnknownCat} ground-truth annotation(s) have a category_id that is not in "categories" and are not evaluated`);
  const dtCell = new Int32Array(dets.length);
  const dtCount = new Int32Array(cells + 1);
  let dtUnknownCat = 0;
  for (let j = 0; j < dets.length; j++) {
    const i = imgIndex.get(dets[j].image_id);
    const k = catIndex.get(dets[j].category_id);
    if (k === undefined) dtUnknownCat++;
    const c = i === undefined || k === undefined ? -1 : k * I + i;
    dtCell[j] = c;
    if (c >= 0) dtCount[c + 1]++;
  }
  if (dtUnknownCat) warnings.push(`${dtUnknownCat} detection(s) have a category_id that is not a ground-truth category and are not evaluated`);

  for (let c = 0; c < cells; c++) {
    gtCount[c + 1] += gtCount[c];
    dtCount[c + 1] += dtCount[c];
  }
  const gtStart = gtCount;
  const dtStart = dtCount;
  const nGt = gtStart[cells];
  const nDt = dtStart[cells];

  // Stable counting sort into the cells.
  const gtBox = new Float64Array(4 * nGt);
  const gtArea = new Float64Array(nGt);
  const gtCrowd = new Uint8Array(nGt);
  const gtIdNonzero = new Uint8Array(nGt);
  const gtFill = gtStart.slice(0, cells);
  for (let j = 0; j < anns.length; j++) {
    const c = gtCell[j];
    if (c < 0) continue;
    const p = gtFill[c]++;
    const a = anns[j];
    const b = a.bbox;
    gtBox[4 * p] = b[0];
    gtBox[4 * p + 1] = b[1];
    gtBox[4 * p + 2] = b[2];
    gtBox[4 * p + 3] = b[3];
    gtArea[p] = a.area;
    gtCrowd[p] = a.iscrowd ? 1 : 0;
    gtIdNonzero[p] = a.id !== 0 ? 1 : 0;
  }
  const dtBox = new Float64Array(4 * nDt);
  const dtScore = new Float64Array(nDt);
  const dtArea = new Float64Array(nDt);
  const dtFill = dtStart.slice(0, cells);
  for (let j = 0; j < dets.length; j++) {
    const c = dtCell[j];
    if (c < 0) continue;
    const p = dtFill[c]++;
    const d = dets[j];
    const b = d.bbox;
    dtBox[4 * p] = b[0];
    dtBox[4 * p + 1] = b[1];
    dtBox[4 * p + 2] = b[2];
    dtBox[4 * p + 3] = b[3];
    dtScore[p] = d.score;
    dtArea[p] = b[2] * b[3];
  }
  return { imgIds, catIds, catNames, gtStart, dtStart, gtBox, gtArea, gtCrowd, gtIdNonzero, dtBox, dtScore, dtArea, warnings, nGt, nDt };
}
