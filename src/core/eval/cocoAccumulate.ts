// pycocotools' accumulate(): per category, area range and detection cap, the detections of all
// images sorted by score (stable across the image-order concatenation), cumulative TP/FP per IoU
// threshold, precision made monotone from the right and read at the 101 recall thresholds with
// searchsorted(side='left'). Arrays are laid out like numpy's [T,R,K,A,M] and [T,K,A,M].
import type { CocoMatches } from './cocoMatch';
import * as P from './cocoParams';
import { MemoryError, checkAllocation, isAllocationFailure } from '../errors';

// Module-local copies (imported bindings can compile to getters, too slow in the loops below).
const T = P.T;
const R = P.R;
const A = P.A;
const M = P.M;
const EPS = P.EPS;
const REC_THRS = P.REC_THRS;
const MAX_DETS = P.MAX_DETS;
const ALL_T = (1 << T) - 1;

export interface CocoAccumulated {
  K: number;
  /** [T][R][K][A][M], -1 where the category has no (non-ignored) ground truth. */
  precision: Float64Array;
  /** [T][K][A][M], same convention. */
  recall: Float64Array;
}

export const pIndex = (K: number, t: number, r: number, k: number, a: number, m: number): number => (((t * R + r) * K + k) * A + a) * M + m;
export const rIndex = (K: number, t: number, k: number, a: number, m: number): number => ((t * K + k) * A + a) * M + m;

/** The kept detections of category k in accumulate()'s order: descending score, ties in
 *  concatenation order (ascending image, then rank), as np.argsort(-scores, kind='mergesort'). */
export function sortedKept(mt: CocoMatches, k: number): Int32Array {
  const k0 = mt.keptStart[k];
  const n = mt.keptStart[k + 1] - k0;
  const s = mt.keptScore;
  const idx = Array.from({ length: n }, (_, j) => k0 + j);
  idx.sort((x, y) => s[y] - s[x] || x - y);
  return Int32Array.from(idx);
}

/** Scratch buffers of accumulateCategory, for categories of up to n (ordered) detections and np
 *  non-ignored ground truths (a category has at most np true positives per IoU threshold). */
export interface AccumulateScratch {
  rc: Float64Array;
  pr: Float64Array;
  sel: Int32Array;
  tp: Int32Array;
  fp: Int32Array;
}
export const accumulateScratch = (n: number, np: number): AccumulateScratch => ({
  rc: new Float64Array(T * np),
  pr: new Float64Array(T * np),
  sel: new Int32Array(n),
  tp: new Int32Array(T),
  fp: new Int32Array(T),
});

/** Which area ranges and detection caps (indices into AREA_RNG / MAX_DETS) to compute. */
export interface AccumulateScope {
  areas: readonly number[];
  /** Descending and contiguous (a cap may copy the next larger one's numbers). */
  caps: readonly number[];
}
const ALL: AccumulateScope = { areas: [...Array(A).keys()], caps: [...Array(M).keys()].reverse() };

export function emptyAccumulated(K: number): CocoAccumulated {
  // The tables grow with the number of categories the ground truth declares (numpy's layout):
  // check the size before allocating, so 200k categories end in a clear error, not an abort.
  const cells = T * R * K * A * M + T * K * A * M;
  checkAllocation(cells * 8, `pycocotools' precision table for ${K} categories`, 'keep only the categories you evaluate in the instances file (COCO has 80)');
  try {
    return { K, precision: new Float64Array(T * R * K * A * M).fill(-1), recall: new Float64Array(T * K * A * M).fill(-1) };
  } catch (err) {
    if (isAllocationFailure(err)) throw new MemoryError(`allocating the precision table for ${K} categories`, 'the number of categories in the instances file');
    throw err;
  }
}

export function accumulate(mt: CocoMatches, K: number): CocoAccumulated {
  const acc = emptyAccumulated(K);
  let maxN = 0,
    maxNp = 0;
  for (let k = 0; k < K; k++) maxN = Math.max(maxN, mt.keptStart[k + 1] - mt.keptStart[k]);
  for (let i = 0; i < mt.npig.length; i++) maxNp = Math.max(maxNp, mt.npig[i]);
  const scratch = accumulateScratch(maxN, maxNp);
  for (let k = 0; k < K; k++) accumulateCategory(acc, k, mt, sortedKept(mt, k), mt.keptStart[k + 1] - mt.keptStart[k], mt.npig, scratch, ALL);
  return acc;
}

/**
 * Precision and recall of category k from its kept detections in `idx[0..n)` (indices into the
 * matches, in accumulate order; an index may repeat: the bootstrap's resampled images) and the
 * count of non-ignored ground truth `npig[k * A + a]`. Fills acc for the scope's areas and caps.
 *
 * pycocotools evaluates precision and recall after every detection, makes precision
 * non-increasing from the right and reads it at the first detection whose recall reaches each
 * recall threshold. Recall only rises at a true positive, and precision only rises there too
 * (a false positive lowers it, an ignored detection leaves both unchanged), so that first
 * detection is always a true positive (or the first detection, for threshold 0, whose
 * right-maximum is the best true positive's precision) and the right-maxima over all detections
 * equal those over the true positives. Only true positives are therefore kept, with the same
 * floating-point operations: identical numbers, and one pass for all IoU thresholds.
 */
export function accumulateCategory(acc: CocoAccumulated, k: number, mt: CocoMatches, idx: Int32Array, n: number, npig: Int32Array, scratch: AccumulateScratch, scope: AccumulateScope): void {
  const { precision, recall, K } = acc;
  const { keptRank, tpMask, fpMask } = mt;
  const { rc, pr, sel, tp, fp } = scratch;
  let anyGt = false;
  for (let a = 0; a < A; a++) if (npig[k * A + a] > 0) anyGt = true;
  if (!anyGt) return;
  // The smaller caps keep a subsequence of the order for the largest cap, and a subsequence of a
  // stable order is the stable order of the subset.
  let ndPrev = -1;
  for (const m of scope.caps) {
    const maxDet = MAX_DETS[m];
    let nd = 0;
    for (let j = 0; j < n; j++) if (keptRank[idx[j]] < maxDet) sel[nd++] = idx[j];
    if (nd === ndPrev) {
      // No image had more than maxDet detections of this category: the same detections as
      // with the next larger cap, hence the same numbers.
      for (const a of scope.areas) {
        if (npig[k * A + a] === 0) continue;
        for (let t = 0; t < T; t++) {
          recall[rIndex(K, t, k, a, m)] = recall[rIndex(K, t, k, a, m + 1)];
          for (let r = 0; r < R; r++) precision[pIndex(K, t, r, k, a, m)] = precision[pIndex(K, t, r, k, a, m + 1)];
        }
      }
      continue;
    }
    ndPrev = nd;
    for (const a of scope.areas) {
      const np = npig[k * A + a];
      if (np === 0) continue;
      // One pass over the detections for every threshold: at each true positive, recall and
      // precision (tp / np, tp / (fp + tp + eps), as pycocotools computes them) into row t.
      // A detection that is a false positive at every threshold (most of them) only counts in
      // fpAll; fp[t] holds the rest.
      tp.fill(0);
      fp.fill(0);
      let fpAll = 0;
      for (let j = 0; j < nd; j++) {
        const q = sel[j] * A + a;
        const tm = tpMask[q],
          fm = fpMask[q];
        if (tm === 0) {
          if (fm === ALL_T) {
            fpAll++;
            continue;
          }
          if (fm === 0) continue;
        }
        for (let t = 0; t < T; t++) {
          const bit = 1 << t;
          if (tm & bit) {
            const c = ++tp[t];
            const e = t * np + c - 1;
            rc[e] = c / np;
            pr[e] = c / (fpAll + fp[t] + c + EPS);
          } else if (fm & bit) fp[t]++;
        }
      }
      for (let t = 0; t < T; t++) {
        const ne = tp[t];
        const e0 = t * np;
        recall[rIndex(K, t, k, a, m)] = nd ? ne / np : 0;
        for (let e = e0 + ne - 1; e > e0; e--) if (pr[e] > pr[e - 1]) pr[e - 1] = pr[e];
        // rc is increasing, so one forward pointer gives searchsorted(rc, recThrs, 'left').
        // Past the last true positive the precision stays 0 (pycocotools' caught IndexError).
        let pi = 0;
        for (let r = 0; r < R; r++) {
          const thr = REC_THRS[r];
          while (pi < ne && rc[e0 + pi] < thr) pi++;
          precision[pIndex(K, t, r, k, a, m)] = pi < ne ? pr[e0 + pi] : 0;
        }
      }
    }
  }
}
