// The COCO shapes the evaluator reads (instances JSON and results JSON) and what it returns.
import type { PerImageEvals } from './perImage';

// The file shapes live in data/coco.ts (one definition); re-exported for the evaluator's files.
export type { CocoAnnotation, CocoCategory, CocoDet, CocoGt, CocoImage } from '../data/coco';

export interface CocoEvalOptions {
  /** Evaluate only these images (pycocotools' params.imgIds); default: every image of the ground truth. */
  imgIds?: number[];
  /** Keep the per-image evaluations (result.perImage) for bootstrap intervals (src/core/eval/bootstrap.ts). */
  perImage?: boolean;
}

/** Precision at the 101 recall thresholds (area "all", 100 detections); -1 where there is no ground truth. */
export interface PrCurve {
  /** Overall: mean over categories (and IoU thresholds for .5:.95) of the entries > -1. */
  overall: number[];
  /** By category id. */
  perCategory: Record<number, number[]>;
}
export interface CocoCurves {
  /** The 101 recall thresholds 0, .01, ..., 1 (the x axis). */
  recall: number[];
  /** At IoU .50. */
  iou50: PrCurve;
  /** Averaged over IoU .50:.05:.95. */
  iou50to95: PrCurve;
}

export interface CocoCategoryAp {
  name: string;
  /** AP@[.5:.95], area all, 100 detections; -1 for a category without (non-crowd) ground truth. */
  ap: number;
  /** AP@.5, same conventions. */
  ap50: number;
}

export interface CocoEvalResult {
  /** pycocotools' 12 summary numbers, in its order (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl). */
  stats: number[];
  /** By category id. */
  perCategory: Record<number, CocoCategoryAp>;
  curves: CocoCurves;
  /** The 12 lines pycocotools' summarize() prints, joined by "\n". */
  summaryText: string;
  /** Things pycocotools silently skips (detections of unknown categories, ...), said once each. */
  warnings: string[];
  counts: { images: number; categories: number; annotations: number; detections: number };
  /** With opts.perImage: the per-image matches, which bootstrap.ts re-accumulates. Not serialised. */
  perImage?: PerImageEvals;
}
