// Shape checks for ground truth and detections. Errors name the file when there is one, and the
// first offending entry by index, so a user can find it.
import { FormatError, QatLensError, preview } from '../errors';
import type { CocoDet, CocoGt } from './cocoTypes';

function fail(file: string | undefined, message: string): never {
  throw file ? new FormatError(message, file) : new QatLensError(message);
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isBox = (b: unknown): boolean => Array.isArray(b) && b.length === 4 && b.every(isNum);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks a parsed instances file; returns it typed. */
export function validateGt(gt: unknown, file?: string): CocoGt {
  if (!isObj(gt)) fail(file, 'not a COCO instances file: expected a JSON object with "images", "annotations" and "categories"');
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(gt[key])) fail(file, `not a COCO instances file: "${key}" is ${gt[key] === undefined ? 'missing' : 'not an array'}`);
  }
  const images = gt.images as unknown[];
  images.forEach((im, i) => {
    if (!isObj(im) || !isNum(im.id)) fail(file, `images[${i}]: "id" must be a number`);
  });
  const categories = gt.categories as unknown[];
  categories.forEach((c, i) => {
    if (!isObj(c) || !isNum(c.id)) fail(file, `categories[${i}]: "id" must be a number`);
    if (c.name !== undefined && typeof c.name !== 'string') fail(file, `categories[${i}]: "name" must be a string`);
  });
  const seen = new Set<number>();
  (gt.annotations as unknown[]).forEach((a, i) => {
    const where = `annotations[${i}]`;
    if (!isObj(a)) fail(file, `${where}: not an object`);
    for (const key of ['id', 'image_id', 'category_id', 'area'] as const) {
      if (!isNum(a[key])) fail(file, `${where}: "${key}" must be a finite number${a[key] === undefined ? ' (missing)' : `, got ${preview(a[key])}`}`);
    }
    if (!isBox(a.bbox)) fail(file, `${where}: "bbox" must be [x, y, width, height] of finite numbers, got ${preview(a.bbox)}`);
    if (a.iscrowd !== undefined && a.iscrowd !== 0 && a.iscrowd !== 1 && typeof a.iscrowd !== 'boolean') {
      fail(file, `${where}: "iscrowd" must be 0 or 1, got ${preview(a.iscrowd)}`);
    }
    // pycocotools indexes annotations by id: a repeated id makes it evaluate one annotation twice
    // and lose the other, so refuse it instead of scoring something else than the file says.
    const id = a.id as number;
    if (seen.has(id)) fail(file, `${where}: annotation id ${id} appears more than once`);
    seen.add(id);
  });
  return gt as unknown as CocoGt;
}

/** Checks a parsed results file (a JSON array of detections); returns it typed. */
export function validateDets(dets: unknown, file?: string): CocoDet[] {
  if (!Array.isArray(dets)) {
    fail(file, `not a COCO results file: expected a JSON array of {image_id, category_id, bbox, score}${isObj(dets) && Array.isArray(dets.annotations) ? ' (this looks like an instances file)' : ''}`);
  }
  dets.forEach((d, i) => {
    const where = `detection [${i}]`;
    if (!isObj(d)) fail(file, `${where}: not an object`);
    for (const key of ['image_id', 'category_id', 'score'] as const) {
      if (!isNum(d[key])) fail(file, `${where}: "${key}" must be a finite number${d[key] === undefined ? ' (missing)' : `, got ${preview(d[key])}`}`);
    }
    if (!isBox(d.bbox)) fail(file, `${where}: "bbox" must be [x, y, width, height] of finite numbers, got ${preview(d.bbox)}`);
  });
  return dets as CocoDet[];
}

/** pycocotools' loadRes assertion: every detection's image must be an image of the ground truth. */
export function checkDetsMatchGt(gt: CocoGt, dets: CocoDet[], file?: string): void {
  const ids = new Set(gt.images.map((im) => im.id));
  for (let i = 0; i < dets.length; i++) {
    if (!ids.has(dets[i].image_id)) {
      fail(file, `detection [${i}] has image_id ${dets[i].image_id}, which is not an image of the ground truth (results do not correspond to this COCO set)`);
    }
  }
}
