// Paired bootstrap over images for mAP differences. Each resample draws the evaluation images
// with replacement (seeded, src/core/rng.ts) and re-accumulates COCOeval's per-image matches of
// every model on the same drawn images: no re-matching, only accumulate() (area all, 100
// detections) and the two summary numbers mAP@.5:.95 and mAP@.5.
//
// A resample is the pycocotools evaluation whose evalImgs list holds each image as many times as
// it was drawn, images in ascending order (copies adjacent): accumulate's stable sort then breaks
// score ties by image, copy, rank. tools/reference/bootstrap_ref.py computes exactly that with the
// Python transcription of COCOeval.
import { QatLensError } from '../errors';
import { Rng } from '../rng';
import { accumulateCategory, accumulateScratch, emptyAccumulated, type AccumulateScope } from './cocoAccumulate';
import { A, M, R, T } from './cocoParams';
import { summaryStat } from './cocoSummary';
import type { PerImageEvals } from './perImage';

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_SEED = 1;
/** Percentiles of the 95% interval. */
const LO = 2.5;
const HI = 97.5;

const SCOPE: AccumulateScope = { areas: [0], caps: [M - 1] };

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
}

/** mAP@.5:.95 and mAP@.5 of one model on each resample. */
export interface ResampledMaps {
  map: Float64Array;
  map50: Float64Array;
}

/** How often each image is drawn in each resample: counts[b][i]. Draw order: resample-major, I draws each. */
export function resampleCounts(images: number, resamples: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  const out: Int32Array[] = [];
  for (let b = 0; b < resamples; b++) {
    const w = new Int32Array(images);
    for (let j = 0; j < images; j++) w[rng.int(images)]++;
    out.push(w);
  }
  return out;
}

/** Every model's mAPs on the same resamples (paired). The models must be scored on the same images and categories. */
export function bootstrapMaps(models: PerImageEvals[], counts: Int32Array[]): ResampledMaps[] {
  const first = models[0];
  for (const m of models) {
    if (m.imgIds.length !== first.imgIds.length || m.imgIds.some((id, i) => id !== first.imgIds[i]) || m.catIds.some((id, i) => id !== first.catIds[i]) || m.catIds.length !== first.catIds.length) {
      throw new QatLensError('a paired bootstrap needs every model scored on the same images and categories');
    }
  }
  return models.map((m) => resampledMaps(m, counts));
}

function resampledMaps(ev: PerImageEvals, counts: Int32Array[]): ResampledMaps {
  const I = ev.images;
  const K = ev.catIds.length;
  const mt = ev.matches;
  const { cellKept, cellNpig, keptScore } = mt;
  const img = ev.imageOfKept();
  const acc = emptyAccumulated(K);
  const sbuf = new Float64Array(T * R * Math.max(K, 1));
  const npig = new Int32Array(K * A);
  let buf = new Int32Array(16);
  let scratch = accumulateScratch(16, 16);
  const map = new Float64Array(counts.length);
  const map50 = new Float64Array(counts.length);
  for (let b = 0; b < counts.length; b++) {
    const w = counts[b];
    if (w.length !== I) throw new QatLensError(`resample ${b} has ${w.length} image counts for ${I} images`);
    acc.precision.fill(-1);
    acc.recall.fill(-1);
    npig.fill(0);
    for (let k = 0; k < K; k++) {
      let need = 0;
      for (let i = 0; i < I; i++) {
        const c = k * I + i;
        if (w[i] === 0) continue;
        need += w[i] * (cellKept[c + 1] - cellKept[c]);
        for (let a = 0; a < A; a++) npig[k * A + a] += w[i] * cellNpig[c * A + a];
      }
      const np = Math.max(...Array.from({ length: A }, (_, a) => npig[k * A + a]));
      if (buf.length < need) buf = new Int32Array(need * 2);
      if (scratch.sel.length < need || scratch.rc.length < T * np) scratch = accumulateScratch(Math.max(need * 2, scratch.sel.length), Math.max(np * 2, scratch.rc.length / T));
      // The resampled order from the full order: each detection repeated as often as its image
      // was drawn; inside a run of equal scores, copies of one image stay together (image, copy, rank).
      const o = ev.order(k);
      const len = ev.usefulLength(k, SCOPE.areas[0]);
      let n = 0;
      for (let j = 0; j < len;) {
        const s = keptScore[o[j]];
        let e = j + 1;
        while (e < len && keptScore[o[e]] === s) e++;
        for (let u = j; u < e;) {
          const im = img[o[u]];
          let v = u + 1;
          while (v < e && img[o[v]] === im) v++;
          for (let r = w[im]; r > 0; r--) for (let x = u; x < v; x++) buf[n++] = o[x];
          u = v;
        }
        j = e;
      }
      accumulateCategory(acc, k, mt, buf, n, npig, scratch, SCOPE);
    }
    map[b] = summaryStat(acc, 0, sbuf);
    map50[b] = summaryStat(acc, 1, sbuf);
  }
  return { map, map50 };
}

/** numpy.percentile(values, q) with its default linear interpolation (and numpy's lerp). */
export function percentile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const v = (q / 100) * (n - 1);
  const lo = Math.floor(v);
  const hi = Math.min(lo + 1, n - 1);
  const t = v - lo;
  const a = sorted[lo];
  const d = sorted[hi] - a;
  return t >= 0.5 ? sorted[hi] - d * (1 - t) : a + d * t;
}

/** The 95% percentile interval of resampled values (NaNs, e.g. a zero gap, left out). */
export function interval95(values: Float64Array): [number, number] {
  const v = Float64Array.from(values.filter((x) => !Number.isNaN(x))).sort();
  if (v.length === 0) return [Number.NaN, Number.NaN];
  return [percentile(v, LO), percentile(v, HI)];
}

/** Element-wise b - a. */
export function diffs(b: Float64Array, a: Float64Array): Float64Array {
  return b.map((x, i) => x - a[i]);
}

/** Element-wise (x - qat) / (float - qat): the share of the float -> QAT gap recovered. */
export function gapShares(x: Float64Array, qat: Float64Array, float: Float64Array): Float64Array {
  return x.map((v, i) => (v - qat[i]) / (float[i] - qat[i]));
}

/** True when the interval contains 0: the difference is not distinguishable from noise. */
export const containsZero = (ci: readonly [number, number]): boolean => ci[0] <= 0 && ci[1] >= 0;

/** A difference of mAPs with its 95% paired bootstrap interval (fractions, like the mAPs). */
export interface MapDiff {
  /** Label of the row it is measured against. */
  against: string;
  /** this − reference, on all images. */
  map: number;
  map50: number;
  mapCi: [number, number];
  map50Ci: [number, number];
  /** The mAP@.5:.95 interval contains 0: not distinguishable from noise. */
  noise: boolean;
}

/** How the intervals were drawn. */
export interface BootstrapInfo {
  resamples: number;
  seed: number;
  images: number;
  /** Time for all resamples of all models (ms). */
  ms: number;
}

/**
 * The 95% interval of mAP(b) − mAP(a) for two evaluations on different images (e.g. one model on
 * two data sets): each side resampled on its own (unpaired), `resamples` times.
 */
export function unpairedDiffIntervals(a: PerImageEvals, b: PerImageEvals, resamples = DEFAULT_RESAMPLES, seed = DEFAULT_SEED): { map: [number, number]; map50: [number, number] } {
  const [ra] = bootstrapMaps([a], resampleCounts(a.images, resamples, seed));
  const [rb] = bootstrapMaps([b], resampleCounts(b.images, resamples, seed + 1));
  return { map: interval95(diffs(rb.map, ra.map)), map50: interval95(diffs(rb.map50, ra.map50)) };
}
