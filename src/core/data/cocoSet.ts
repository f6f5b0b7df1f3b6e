// A COCO instances JSON and its image folder as a Dataset.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatError, QatLensError } from '../errors';
import type { CocoAnnotation, CocoCategory, CocoGt, CocoImage } from './coco';
import type { Dataset, DatasetImage } from './types';

/** Split name from "instances_val2017.json" -> "val2017"; otherwise the file stem. */
export function cocoSplitOf(file: string): string {
  const stem = basename(file).replace(/\.json$/i, '');
  return stem.replace(/^instances_/, '');
}

function imageRoots(file: string, split: string): string[] {
  const dir = dirname(file);
  const up = dirname(dir);
  const bare = split.replace(/\d{4}$/, ''); // val2017 -> val
  return [dir, join(dir, 'images'), join(dir, 'images', split), join(dir, 'images', bare), join(up, 'images', split), join(up, 'images', bare), join(up, split), join(up, 'images'), join(dir, split)];
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function loadCocoDataset(file: string, opts: { imagesDir?: string } = {}): Dataset {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code) throw new QatLensError(`cannot read file (${e.code})`, file, 'EREAD');
    throw new FormatError(`not valid JSON (${e.message})`, file);
  }
  const j = raw as Partial<CocoGt>;
  if (!j || typeof j !== 'object' || !Array.isArray(j.images) || !Array.isArray(j.annotations) || !Array.isArray(j.categories)) {
    throw new FormatError('not a COCO instances file: "images", "annotations" and "categories" arrays are required', file);
  }
  const split = cocoSplitOf(file);
  const categories: CocoCategory[] = j.categories.map((c, i) => {
    if (!c || !isNum(c.id)) throw new FormatError(`categories[${i}] has no numeric "id"`, file);
    return { id: c.id, name: String(c.name ?? c.id), ...(c.supercategory ? { supercategory: c.supercategory } : {}) };
  });
  const catIds = new Set(categories.map((c) => c.id));
  const images: Required<CocoImage>[] = j.images.map((im, i) => {
    if (!im || !isNum(im.id) || !isNum(im.width) || !isNum(im.height) || typeof im.file_name !== 'string') {
      throw new FormatError(`images[${i}] needs numeric "id", "width", "height" and a "file_name"`, file);
    }
    return { id: im.id, file_name: im.file_name, width: im.width, height: im.height };
  });
  const byId = new Map(images.map((im) => [im.id, im]));
  const annotations: CocoAnnotation[] = j.annotations.map((a, i) => {
    const where = `annotations[${i}] (id ${a?.id})`;
    if (!a || !isNum(a.image_id) || !isNum(a.category_id) || !Array.isArray(a.bbox) || a.bbox.length !== 4 || !a.bbox.every(isNum)) {
      throw new FormatError(`${where} needs "image_id", "category_id" and a 4-number "bbox"`, file);
    }
    const im = byId.get(a.image_id);
    if (!im) throw new FormatError(`${where} refers to image_id ${a.image_id}, which is not in "images"`, file);
    if (!catIds.has(a.category_id)) throw new FormatError(`${where} has category_id ${a.category_id}, which is not in "categories"`, file);
    const [x, y, w, h] = a.bbox;
    // COCO's own files overshoot the image by a pixel or so; more than that is a broken label.
    const tol = 2;
    if (w < 0 || h < 0 || x < -tol || y < -tol || x + w > im.width + tol || y + h > im.height + tol) {
      throw new FormatError(`${where}: bbox [${a.bbox.join(', ')}] is out of range for image ${im.id} (${im.width}x${im.height})`, file);
    }
    return { id: isNum(a.id) ? a.id : i + 1, image_id: a.image_id, category_id: a.category_id, bbox: [x, y, w, h], area: isNum(a.area) ? a.area : w * h, iscrowd: a.iscrowd ? 1 : 0 };
  });
  const root = opts.imagesDir ?? findImageRoot(file, split, images);
  const dsImages: DatasetImage[] = images.map((im) => ({ id: im.id, file: join(root, im.file_name), width: im.width, height: im.height }));
  const sorted = [...categories].sort((a, b) => a.id - b.id);
  return {
    format: 'coco',
    source: file,
    split,
    names: sorted.map((c) => c.name),
    categoryIds: sorted.map((c) => c.id),
    images: dsImages,
    gt: { images, annotations, categories },
  };
}

function findImageRoot(file: string, split: string, images: Required<CocoImage>[]): string {
  const roots = imageRoots(file, split);
  if (images.length === 0) return roots[0];
  const probe = images[0].file_name;
  for (const r of roots) if (existsSync(join(r, probe))) return r;
  throw new QatLensError(`cannot find image "${probe}"; looked in ${roots.join(', ')}`, file, 'ENOIMAGE');
}
