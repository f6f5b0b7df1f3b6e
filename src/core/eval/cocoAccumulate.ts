// pycocotools' accumulate(): per category, area range and detection cap, the detections of all
// images sorted by score (stable across the image-order concatenation), cumulative TP/FP per IoU
// threshold, precision made monotone from the right and read at the 101 recall thresholds with
// searchsorted(side='left'). Arrays are laid out like numpy's [T,R,K,A,M] and [T,K,A,M].
import { FP as FP_, TP as TP_, type CocoMatches } from './cocoMatch';
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

export function accumulate(mt: CocoMatches, K: number): CocoAccumulated {
  // The tables grow with the number of categories the ground truth declares (numpy's layout):
  // check the size before allocating, so 200k categories end in a clear error, not an abort.
  const cells = T * R * K * A * M + T * K * A * M;
  checkAllocation(cells * 8, `pycocotools' precision table for ${K} categories`, 'keep only the categories you evaluate in the instances file (COCO has 80)');
  let precision: Float64Array;
  let recall: Float64Array;
  try {
    precision = new Float64Array(T * R * K * A * M).fill(-1);
    recall = new Float64Array(T * K * A * M).fill(-1);
  } catch (err) {
    if (isAllocationFailure(err)) throw new MemoryError(`allocating the precision table for ${K} categories`, 'the number of categories in the instances file');
    throw err;
  }
  const { keptStart, keptScore, keptRank, state, npig } = mt;
  let maxN = 0;
  for (let k = 0; k < K; k++) maxN = Math.max(maxN, keptStart[k + 1] - keptStart[k]);
  const rc = new Float64Array(maxN);
  const pr = new Float64Array(maxN);
  const sel = new Int32Array(maxN);

  for (let k = 0; k < K; k++) {
    const k0 = keptStart[k];
    const n = keptStart[k + 1] - k0;
    let anyGt = false;
    for (let a = 0; a < A; a++) if (npig[k * A + a] > 0) anyGt = true;
    if (!anyGt) continue;
    // One stable sort for the largest cap; the smaller caps keep a subsequence of it, and a
    // subsequence of a stable order is the stable order of the subset.
    const idx = Array.from({ length: n }, (_, j) => k0 + j);
    idx.sort((x, y) => keptScore[y] - keptScore[x] || x - y);
    let ndPrev = -1;
    for (let m = M - 1; m >= 0; m--) {
      const maxDet = MAX_DETS[m];
      let nd = 0;
      for (let j = 0; j < n; j++) if (keptRank[idx[j]] < maxDet) sel[nd++] = idx[j];
      if (nd === ndPrev) {
        // No image had more than maxDet detections of this category: the same detections as
        // with the next larger cap, hence the same numbers.
        for (let a = 0; a < A; a++) {
          if (npig[k * A + a] === 0) continue;
          for (let t = 0; t < T; t++) {
            recall[rIndex(K, t, k, a, m)] = recall[rIndex(K, t, k, a, m + 1)];
            for (let r = 0; r < R; r++) precision[pIndex(K, t, r, k, a, m)] = precision[pIndex(K, t, r, k, a, m + 1)];
          }
        }
        continue;
      }
      ndPrev = nd;
      for (let a = 0; a < A; a++) {
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
  return { K, precision, recall };
}
