// Evaluation and calibration data sets, detected from the path the user gives: a COCO instances
// JSON, a YOLO data.yaml, or a folder holding one of them.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QatLensError } from '../errors';
import { loadCocoDataset } from './cocoSet';
import type { Dataset } from './types';
import { labelPathOf, loadYoloDataset } from './yoloSet';

export type { Dataset, DatasetImage } from './types';

export interface OpenDatasetOptions {
  /** Split to read: "val" (default), "calib", "train", ... For a COCO JSON the file decides. */
  split?: string;
  /** Check that every image file exists (default true). */
  checkFiles?: boolean;
}

/** Which file a data set path means: COCO JSON, data.yaml, or a folder holding one. */
export function resolveDatasetPath(path: string, split = 'val'): { kind: 'coco' | 'yolo'; file: string } {
  const p = resolve(path);
  if (!existsSync(p)) throw new QatLensError('data set path does not exist', path, 'ENOENT');
  if (statSync(p).isFile()) {
    if (/\.json$/i.test(p)) return { kind: 'coco', file: p };
    if (/\.ya?ml$/i.test(p)) return { kind: 'yolo', file: p };
    throw new QatLensError('not a data set: give a COCO instances .json, a YOLO data.yaml, or a folder holding one', path, 'EFORMAT');
  }
  // A folder: COCO instances for the split first (exact areas), then a data.yaml.
  for (const d of [p, join(p, 'annotations')]) {
    for (const name of [`instances_${split}.json`, `instances_${split}2017.json`]) {
      if (existsSync(join(d, name))) return { kind: 'coco', file: join(d, name) };
    }
  }
  for (const name of ['data.yaml', 'data.yml', 'dataset.yaml']) if (existsSync(join(p, name))) return { kind: 'yolo', file: join(p, name) };
  const yamls = readdirSync(p).filter((f) => /\.ya?ml$/i.test(f));
  if (yamls.length === 1) return { kind: 'yolo', file: join(p, yamls[0]) };
  throw new QatLensError(`no data set found: expected instances_${split}.json (here or in annotations/) or a data.yaml`, path, 'ENOENT');
}

export async function openDataset(path: string, opts: OpenDatasetOptions = {}): Promise<Dataset> {
  const split = opts.split ?? 'val';
  const r = resolveDatasetPath(path, split);
  const ds = r.kind === 'coco' ? loadCocoDataset(r.file) : await loadYoloDataset(r.file, split);
  if (opts.checkFiles !== false) {
    for (const im of ds.images) if (!existsSync(im.file)) throw new QatLensError(`image ${im.id} is missing: ${im.file}`, r.file, 'ENOIMAGE');
  }
  return ds;
}

/** One labelled image for fitting (QC calibration): boxes in original pixels, xyxy. */
export interface LabelledImage {
  id: number;
  file: string;
  width: number;
  height: number;
  /** [n*4] x1, y1, x2, y2 in pixels. */
  boxes: Float32Array;
  /** [n] model class index. */
  classes: Int32Array;
}

/**
 * Labelled images of a split (e.g. 'calib' or 'train' for QC; never the evaluation split).
 * Crowd regions are left out (they are not training targets).
 */
export async function labelledImages(path: string, split: string, opts: { limit?: number } = {}): Promise<{ dataset: Dataset; images: LabelledImage[] }> {
  const ds = await openDataset(path, { split });
  const classOf = new Map(ds.categoryIds.map((id, i) => [id, i]));
  const byImage = new Map<number, { b: number[]; c: number[] }>();
  for (const a of ds.gt.annotations) {
    if (a.iscrowd) continue;
    const e = byImage.get(a.image_id) ?? { b: [], c: [] };
    const [x, y, w, h] = a.bbox;
    e.b.push(x, y, x + w, y + h);
    e.c.push(classOf.get(a.category_id)!);
    byImage.set(a.image_id, e);
  }
  const list = opts.limit ? ds.images.slice(0, opts.limit) : ds.images;
  const images = list.map((im) => {
    const e = byImage.get(im.id) ?? { b: [], c: [] };
    return { ...im, boxes: Float32Array.from(e.b), classes: Int32Array.from(e.c) };
  });
  return { dataset: ds, images };
}

export { labelPathOf };
