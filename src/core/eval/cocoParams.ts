// pycocotools' default bbox evaluation parameters (Params.setDetParams), computed with the same
// floating-point operations as numpy's linspace so that threshold comparisons agree bit for bit.

/** numpy.linspace(start, stop, num, endpoint=True): y[i] = i*step + start, last element = stop. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const y = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) y[i] = i * step + start;
  y[num - 1] = stop;
  return y;
}

/** IoU thresholds .50:.05:.95 (T = 10). */
export const IOU_THRS = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
/** Recall thresholds 0:.01:1 (R = 101). */
export const REC_THRS = linspace(0, 1, Math.round((1 - 0) / 0.01) + 1);
/** Detections kept per image and category, ascending as pycocotools sorts them. */
export const MAX_DETS = [1, 10, 100] as const;
/** Object area ranges [lo, hi], inclusive at both ends (an area outside is "ignored"). */
export const AREA_RNG: readonly (readonly [number, number])[] = [
  [0 ** 2, 1e5 ** 2],
  [0 ** 2, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
export const AREA_LBL = ['all', 'small', 'medium', 'large'] as const;
export type AreaLabel = (typeof AREA_LBL)[number];

export const T = IOU_THRS.length;
export const R = REC_THRS.length;
export const A = AREA_RNG.length;
export const M = MAX_DETS.length;
/** The best-match start value is min(t, 1 - 1e-10) so that an IoU of exactly 1 still matches at t = 1. */
export const IOU_CAP = 1 - 1e-10;
/** np.spacing(1): added to tp + fp so that precision is 0 (not NaN) before the first detection. */
export const EPS = 2.220446049250313e-16;
