// pycocotools' computeIoU + evaluateImg for every (category, image) cell: detections sorted by
// score (stable) and cut at 100, bbox IoU (crowd: intersection over the detection's area), and the
// greedy matching per area range and IoU threshold. The outcome of each kept detection is one
// byte per (area range, threshold): FP, TP or ignored.
import * as P from './cocoParams';
import type { CocoIndex } from './cocoIndex';

// Module-local copies: imported bindings can compile to property getters (CommonJS), too slow in
// the inner loops.
const A = P.A;
const T = P.T;
const IOU_THRS = P.IOU_THRS;
const IOU_CAP = P.IOU_CAP;
const AREA_LO = Float64Array.from(P.AREA_RNG, (r) => r[0]);
const AREA_HI = Float64Array.from(P.AREA_RNG, (r) => r[1]);
const MAX_DET = P.MAX_DETS[P.MAX_DETS.length - 1];

export const FP = 0;
export const TP = 1;
export const IGNORED = 2;

export interface CocoMatches {
  /** Kept detections of category k: [keptStart[k], keptStart[k+1]), concatenated over images in
   *  ascending image id, each image's in descending score (stable), as accumulate() concatenates them. */
  keptStart: Int32Array;
  keptScore: Float64Array;
  /** Rank of the detection inside its (image, category): 0 .. maxDet-1. */
  keptRank: Int32Array;
  /** Outcome at [(kept * A + a) * T + t]. */
  state: Uint8Array;
  /** The same per [kept * A + a] as bit masks over the thresholds (bit t): true positives, false positives. */
  tpMask: Uint16Array;
  fpMask: Uint16Array;
  /** Ground truth not ignored, per [k * A + a]. */
  npig: Int32Array;
  /** Per (category, image) cell c = k * I + i: its kept detections [cellKept[c], cellKept[c+1])
   *  and its non-ignored ground truth per area range, cellNpig[c * A + a] (the bootstrap's per-image view). */
  cellKept: Int32Array;
  cellNpig: Int32Array;
}

/** Stable sort of the indices [lo, hi) by descending score (= np.argsort(-s, kind='mergesort')). */
function sortByScoreDesc(score: Float64Array, lo: number, hi: number, out: Int32Array): void {
  const n = hi - lo;
  if (n <= 32) {
    // Insertion sort: stable, and quickest for the few detections a cell usually has.
    for (let j = 0; j < n; j++) {
      const v = lo + j;
      const s = score[v];
      let p = j - 1;
      while (p >= 0 && score[out[p]] < s) {
        out[p + 1] = out[p];
        p--;
      }
      out[p + 1] = v;
    }
    return;
  }
  const idx = Array.from({ length: n }, (_, j) => lo + j);
  idx.sort((a, b) => score[b] - score[a] || a - b);
  for (let j = 0; j < n; j++) out[j] = idx[j];
}

export function matchAll(ix: CocoIndex): CocoMatches {
  const I = ix.imgIds.length;
  const K = ix.catIds.length;
  const maxDet = MAX_DET;
  const keptStart = new Int32Array(K + 1);
  const keptScore = new Float64Array(ix.nDt);
  const keptRank = new Int32Array(ix.nDt);
  const state = new Uint8Array(ix.nDt * A * T);
  const npig = new Int32Array(K * A);
  const cellKept = new Int32Array(K * I + 1);
  const cellNpig = new Int32Array(K * I * A);
  const { gtStart, dtStart, gtBox, dtBox, gtArea, dtArea, gtCrowd, gtIdNonzero, dtScore } = ix;

  // Scratch buffers, grown on demand.
  let order = new Int32Array(128);
  let ious = new Float64Array(1024);
  let perm = new Int32Array(64);
  let ig = new Uint8Array(64);
  // gtTaken[s] === stamp marks gt s as matched in the current (cell, area, threshold) pass; a new
  // stamp per pass replaces clearing the array.
  let gtTaken = new Int32Array(64);
  let stamp = 0;
  let nKept = 0;

  for (let k = 0; k < K; k++) {
    keptStart[k] = nKept;
    for (let i = 0; i < I; i++) {
      const c = k * I + i;
      cellKept[c] = nKept;
      const g0 = gtStart[c];
      const G = gtStart[c + 1] - g0;
      const d0 = dtStart[c];
      const Dall = dtStart[c + 1] - d0;
      if (G === 0 && Dall === 0) continue;

      if (order.length < Dall) order = new Int32Array(Dall * 2);
      sortByScoreDesc(dtScore, d0, d0 + Dall, order);
      const D = Math.min(Dall, maxDet);

      // IoU of each kept detection with each gt, ious[d * G + g] (maskApi.c bbIou).
      if (ious.length < D * G) ious = new Float64Array(D * G * 2);
      for (let g = 0; g < G; g++) {
        const gb = 4 * (g0 + g);
        const gx = gtBox[gb],
          gy = gtBox[gb + 1],
          gw = gtBox[gb + 2],
          gh = gtBox[gb + 3];
        const ga = gw * gh;
        const crowd = gtCrowd[g0 + g] !== 0;
        for (let d = 0; d < D; d++) {
          const db = 4 * order[d];
          const dx = dtBox[db],
            dy = dtBox[db + 1],
            dw = dtBox[db + 2],
            dh = dtBox[db + 3];
          let o = 0;
          const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
          if (w > 0) {
            const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
            if (h > 0) {
              const inter = w * h;
              const da = dw * dh;
              o = inter / (crowd ? da : da + ga - inter);
            }
          }
          ious[d * G + g] = o;
        }
      }

      for (let d = 0; d < D; d++) {
        const q = nKept + d;
        keptScore[q] = dtScore[order[d]];
        keptRank[q] = d;
      }

      if (perm.length < G) {
        perm = new Int32Array(G * 2);
        ig = new Uint8Array(G * 2);
        gtTaken = new Int32Array(G * 2);
        stamp = 0;
      }
      for (let a = 0; a < A; a++) {
        const lo = AREA_LO[a];
        const hi = AREA_HI[a];
        // gt order: not ignored first, then ignored, each in file order (stable argsort of _ignore).
        let p = 0;
        for (let g = 0; g < G; g++) {
          const ar = gtArea[g0 + g];
          if (!(gtCrowd[g0 + g] || ar < lo || ar > hi)) perm[p++] = g;
        }
        npig[k * A + a] += p;
        cellNpig[c * A + a] = p;
        for (let g = 0; g < G; g++) {
          const ar = gtArea[g0 + g];
          if (gtCrowd[g0 + g] || ar < lo || ar > hi) perm[p++] = g;
        }
        for (let s = 0; s < G; s++) {
          const g = perm[s];
          const ar = gtArea[g0 + g];
          ig[s] = gtCrowd[g0 + g] || ar < lo || ar > hi ? 1 : 0;
        }

        if (G === 0) {
          // Nothing to match: each detection is a false positive, or ignored outside the range.
          for (let d = 0; d < D; d++) {
            const dArea = dtArea[order[d]];
            state.fill(dArea < lo || dArea > hi ? IGNORED : FP, ((nKept + d) * A + a) * T, ((nKept + d) * A + a + 1) * T);
          }
          continue;
        }
        for (let t = 0; t < T; t++) {
          stamp++;
          const start = Math.min(IOU_THRS[t], IOU_CAP);
          for (let d = 0; d < D; d++) {
            let best = start;
            let m = -1;
            {
              const row = d * G;
              for (let s = 0; s < G; s++) {
                const g = perm[s];
                // A matched gt is taken, unless it is a crowd region.
                if (gtTaken[s] === stamp && !gtCrowd[g0 + g]) continue;
                // Matched to a regular gt already: ignored gts (sorted last) cannot replace it.
                if (m > -1 && ig[m] === 0 && ig[s] === 1) break;
                const v = ious[row + g];
                if (v < best) continue;
                best = v;
                m = s;
              }
            }
            const dArea = dtArea[order[d]];
            const areaOut = dArea < lo || dArea > hi;
            let st: number;
            if (m === -1) {
              st = areaOut ? IGNORED : FP;
            } else {
              gtTaken[m] = stamp;
              const dtm = gtIdNonzero[g0 + perm[m]] !== 0;
              if (ig[m] || (!dtm && areaOut)) st = IGNORED;
              else st = dtm ? TP : FP;
            }
            state[((nKept + d) * A + a) * T + t] = st;
          }
        }
      }
      nKept += D;
    }
  }
  keptStart[K] = nKept;
  cellKept[K * I] = nKept;
  const tpMask = new Uint16Array(nKept * A);
  const fpMask = new Uint16Array(nKept * A);
  for (let q = 0; q < nKept * A; q++) {
    let tm = 0,
      fm = 0;
    for (let t = 0; t < T; t++) {
      const st = state[q * T + t];
      if (st === TP) tm |= 1 << t;
      else if (st === FP) fm |= 1 << t;
    }
    tpMask[q] = tm;
    fpMask[q] = fm;
  }
  return { cellKept, cellNpig, keptStart, keptScore: keptScore.subarray(0, nKept), keptRank: keptRank.subarray(0, nKept), state: state.subarray(0, nKept * A * T), tpMask, fpMask, npig };
}
