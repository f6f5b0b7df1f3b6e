// pycocotools' accumulate(): per category, area range and detection cap, the detections of all
// images sorted by score (stable across the image-order concatenation), cumulative TP/FP per IoU
// threshold, precision made monotone from the right and read at the 101 recall thresholds with
// searchsorted(side='left'). Arrays are laid out like numpy's [T,R,K,A,M] and [T,K,A,M].
import { FP as FP_, TP as TP_, type CocoMatches } from './cocoMatch';
import * as P from './cocoParams';

// Module-local copies (imported bindings can compile to getters, too slow in the loops below).
const T = P.T;
const R = P.R;
const A = P.A;
const M = P.M;
const EPS = P.EPS;
const REC_THRS = P.REC_THRS;
const MAX_DETS = P.MAX_DETS;
const FP = FP_;
const TP = TP_;

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
export function sortedKept(mt: CocoMatches, k: number): number[] {
  const k0 = mt.keptStart[k];
  const n = mt.keptStart[k + 1] - k0;
  const s = mt.keptScore;
  const idx = Array.from({ length: n }, (_, j) => k0 + j);
  idx.sort((x, y) => s[y] - s[x] || x - y);
  return idx;
}

/** Scratch buffers of accumulateCategory, for categories of up to n (ordered) detections. */
export interface AccumulateScratch {
  rc: Float64Array;
  pr: Float64Array;
  sel: Int32Array;
}
export const accumulateScratch = (n: number): AccumulateScratch => ({ rc: new Float64Array(n), pr: new Float64Array(n), sel: new Int32Array(n) });

/** Which area ranges and detection caps (indices into AREA_RNG / MAX_DETS) to compute. */
export interface AccumulateScope {
  areas: readonly number[];
  /** Descending. */
  caps: readonly number[];
}
const ALL: AccumulateScope = { areas: [...Array(A).keys()], caps: [...Array(M).keys()].reverse() };

export function emptyAccumulated(K: number): CocoAccumulated {
  return { K, precision: new Float64Array(T * R * K * A * M).fill(-1), recall: new Float64Array(T * K * A * M).fill(-1) };
}

export function accumulate(mt: CocoMatches, K: number): CocoAccumulated {
  const acc = emptyAccumulated(K);
  let maxN = 0;
  for (let k = 0; k < K; k++) maxN = Math.max(maxN, mt.keptStart[k + 1] - mt.keptStart[k]);
  const scratch = accumulateScratch(maxN);
  for (let k = 0; k < K; k++) accumulateCategory(acc, k, mt, sortedKept(mt, k), mt.keptStart[k + 1] - mt.keptStart[k], mt.npig, scratch, ALL);
  return acc;
}

/**
 * Precision and recall of category k from its kept detections in `idx[0..n)` (indices into the
 * matches, in accumulate order; an index may repeat: the bootstrap's resampled images) and the
 * count of non-ignored ground truth `npig[k * A + a]`. Fills acc for the scope's areas and caps.
 */
export function accumulateCategory(
  acc: CocoAccumulated, k: number, mt: CocoMatches, idx: ArrayLike<number>, n: number, npig: Int32Array,
  scratch: AccumulateScratch, scope: AccumulateScope,
): void {
  const { precision, recall, K } = acc;
  const { keptRank, state } = mt;
  const { rc, pr, sel } = scratch;
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
      for (let t = 0; t < T; t++) {
        let tp = 0;
        let fp = 0;
        for (let j = 0; j < nd; j++) {
          const st = state[(sel[j] * A + a) * T + t];
          if (st === TP) tp++;
          else if (st === FP) fp++;
          rc[j] = tp / np;
          pr[j] = tp / (fp + tp + EPS);
        }
        recall[rIndex(K, t, k, a, m)] = nd ? rc[nd - 1] : 0;
        for (let j = nd - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
        // rc is non-decreasing, so one forward pointer gives searchsorted(rc, recThrs, 'left').
        // Past the last detection the precision stays 0 (pycocotools' caught IndexError).
        let pi = 0;
        for (let r = 0; r < R; r++) {
          const thr = REC_THRS[r];
          while (pi < nd && rc[pi] < thr) pi++;
          precision[pIndex(K, t, r, k, a, m)] = pi < nd ? pr[pi] : 0;
        }
      }
    }
  }
}
