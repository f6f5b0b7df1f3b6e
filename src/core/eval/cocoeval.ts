// COCO bbox evaluation, the same numbers as pycocotools' COCOeval (evaluate, accumulate,
// summarize) with its default parameters. The public entry point of src/core/eval.
import { accumulate } from './cocoAccumulate';
import { buildIndex } from './cocoIndex';
import { matchAll } from './cocoMatch';
import { perCategoryAp, prCurves, summarize } from './cocoSummary';
import type { CocoDet, CocoEvalOptions, CocoEvalResult, CocoGt } from './cocoTypes';
import { PerImageEvals } from './perImage';
import { checkDetsMatchGt, validateDets, validateGt } from './cocoValidate';

export type { CocoAnnotation, CocoCategory, CocoCategoryAp, CocoCurves, CocoDet, CocoEvalOptions, CocoEvalResult, CocoGt, CocoImage, PrCurve } from './cocoTypes';
export { summaryLine } from './cocoSummary';

/**
 * Scores detections against ground truth exactly as pycocotools' COCOeval('bbox') does:
 * `stats` are its 12 summary numbers (to floating-point identity in the cases tested),
 * `summaryText` its 12 printed lines. Throws a QatLensError for malformed input, and when a
 * detection names an image that the ground truth lacks (pycocotools' loadRes assertion).
 */
export function evaluateCoco(gt: CocoGt, dets: CocoDet[], opts: CocoEvalOptions = {}): CocoEvalResult {
  validateGt(gt);
  validateDets(dets);
  checkDetsMatchGt(gt, dets);
  const ix = buildIndex(gt, dets, opts.imgIds);
  const matches = matchAll(ix);
  const acc = accumulate(matches, ix.catIds.length);
  const { stats, summaryText } = summarize(acc);
  return {
    stats,
    perCategory: perCategoryAp(acc, ix.catIds, ix.catNames),
    curves: prCurves(acc, ix.catIds),
    summaryText,
    warnings: ix.warnings,
    counts: { images: ix.imgIds.length, categories: ix.catIds.length, annotations: ix.nGt, detections: ix.nDt },
    ...(opts.perImage ? { perImage: new PerImageEvals(ix.imgIds, ix.catIds, matches) } : {}),
  };
}
