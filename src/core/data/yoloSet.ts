// A YOLO data set (data.yaml, images/<split>/, labels/<split>/*.txt) as a Dataset whose ground
// truth is COCO: image ids 1..N in sorted file order, category id = class + 1 (the layout of
// examples/shapes' COCO files), bbox in pixels, area = w*h in pixels, iscrowd 0.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { FormatError, QatLensError } from '../errors';
import type { CocoAnnotation, CocoImage } from './coco';
import type { Dataset, DatasetImage } from './types';
import { parseYaml, type YamlValue } from './yamlFile';

export const IMAGE_EXTS = new Set(['bmp', 'jpg', 'jpeg', 'png', 'tif', 'tiff', 'webp']);

export interface YoloConfig {
  file: string;
  root: string;
  names: string[];
  splits: Record<string, YamlValue>;
}

export function readDataYaml(file: string): YoloConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new QatLensError(`cannot read file (${(err as NodeJS.ErrnoException).code})`, file, 'EREAD');
  }
  const doc = parseYaml(text, file);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new FormatError('expected a map with names, path and split entries (train, val, ...)', file);
  const y = doc;
  let names: string[];
  const n = y.names;
  if (Array.isArray(n)) names = n.map(String);
  else if (n && typeof n === 'object') {
    const ids = Object.keys(n).map(Number);
    if (ids.some((k) => !Number.isInteger(k) || k < 0)) throw new FormatError('"names" keys must be class ids 0, 1, 2, ...', file);
    names = [];
    for (const k of ids.sort((a, b) => a - b)) {
      if (k !== names.length) throw new FormatError(`"names" skips class id ${names.length}`, file);
      names.push(String((n as Record<string, YamlValue>)[String(k)]));
    }
  } else throw new FormatError('no "names" list of class names', file);
  if (typeof y.nc === 'number' && y.nc !== names.length) throw new FormatError(`"nc" is ${y.nc} but "names" lists ${names.length} classes`, file);
  const base = dirname(resolve(file));
  const root = typeof y.path === 'string' ? (isAbsolute(y.path) ? y.path : resolve(base, y.path)) : base;
  const splits: Record<string, YamlValue> = {};
  for (const [k, v] of Object.entries(y)) if (!['path', 'names', 'nc', 'download'].includes(k) && v !== null) splits[k] = v;
  return { file, root, names, splits };
}

function listImages(entry: string, root: string, file: string): string[] {
  const p = isAbsolute(entry) ? entry : resolve(root, entry);
  if (!existsSync(p)) throw new QatLensError(`split folder or list "${entry}" does not exist (looked for ${p})`, file, 'ENOIMAGE');
  if (statSync(p).isDirectory()) {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (IMAGE_EXTS.has(e.name.split('.').pop()!.toLowerCase())) out.push(join(d, e.name));
      }
    };
    walk(p);
    return out;
  }
  // A .txt list of image paths: "./x" is relative to the list's folder (as in YOLOv5), others to the root.
  return readFileSync(p, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && IMAGE_EXTS.has(l.split('.').pop()!.toLowerCase()))
    .map((l) => (isAbsolute(l) ? l : l.startsWith('./') ? resolve(dirname(p), l) : resolve(root, l)));
}

/** YOLOv5's img2label_paths: the last "/images/" becomes "/labels/", the extension ".txt". */
export function labelPathOf(image: string): string {
  const a = `${sep}images${sep}`;
  const i = image.lastIndexOf(a);
  const swapped = i >= 0 ? image.slice(0, i) + `${sep}labels${sep}` + image.slice(i + a.length) : image;
  return swapped.replace(/\.[^./\\]+$/, '.txt');
}

export interface YoloLabel {
  cls: number;
  /** normalised centre x, centre y, width, height */
  cx: number;
  cy: number;
  w: number;
  h: number;
}

/** Parse one label file; polygons (YOLO segment format) become their bounding boxes, as in YOLOv5. */
export function parseYoloLabels(text: string, file: string, nc: number): YoloLabel[] {
  const out: YoloLabel[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (!t) continue;
    const parts = t.split(/\s+/);
    const v = parts.map(Number);
    if (v.some((x) => !Number.isFinite(x))) throw new FormatError(`line ${i + 1}: not numbers: "${t.length > 80 ? `${t.slice(0, 80)}…` : t}"`, file);
    if (v.length < 5 || (v.length > 5 && v.length % 2 === 0)) throw new FormatError(`line ${i + 1}: expected "class cx cy w h" (or "class x1 y1 x2 y2 ..."), got ${v.length} values`, file);
    const cls = v[0];
    if (!Number.isInteger(cls) || cls < 0 || cls >= nc) throw new FormatError(`line ${i + 1}: class id ${parts[0]} is not one of the ${nc} classes in the names list (0..${nc - 1})`, file);
    let cx: number, cy: number, w: number, h: number;
    if (v.length === 5) [cx, cy, w, h] = [v[1], v[2], v[3], v[4]];
    else {
      const xs = v.slice(1).filter((_, k) => k % 2 === 0);
      const ys = v.slice(1).filter((_, k) => k % 2 === 1);
      // Reduce, not Math.min(...xs): a polygon of 100k points would overflow the call stack.
      const lo = (a: number[]) => a.reduce((m, x) => Math.min(m, x), Infinity),
        hi = (a: number[]) => a.reduce((m, x) => Math.max(m, x), -Infinity);
      const x1 = lo(xs),
        x2 = hi(xs),
        y1 = lo(ys),
        y2 = hi(ys);
      [cx, cy, w, h] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
    }
    const eps = 1e-6;
    if ([cx, cy, w, h].some((x) => x < -eps || x > 1 + eps) || cx - w / 2 < -0.01 || cx + w / 2 > 1.01 || cy - h / 2 < -0.01 || cy + h / 2 > 1.01) {
      throw new FormatError(`line ${i + 1}: box ${[cx, cy, w, h].join(' ')} is out of range (normalised coordinates must lie in 0..1)`, file);
    }
    out.push({ cls, cx, cy, w, h });
  }
  return out;
}

/** Width and height as displayed (EXIF orientation 5..8 swaps them, as cv2.imread does). */
export async function imageSize(file: string): Promise<{ width: number; height: number }> {
  let m: sharp.Metadata;
  try {
    m = await sharp(file).metadata();
  } catch (err) {
    throw new QatLensError(`cannot read image (${(err as Error).message})`, file, existsSync(file) ? 'EFORMAT' : 'ENOIMAGE');
  }
  if (!m.width || !m.height) throw new FormatError('image has no size', file);
  const swap = (m.orientation ?? 1) >= 5;
  return swap ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function loadYoloDataset(file: string, split: string): Promise<Dataset> {
  const cfg = readDataYaml(file);
  const entry = cfg.splits[split];
  if (entry === undefined) throw new QatLensError(`no "${split}" split (splits listed: ${Object.keys(cfg.splits).join(', ') || 'none'})`, file, 'ENOSPLIT');
  const entries = (Array.isArray(entry) ? entry : [entry]).map(String);
  const files = [...new Set(entries.flatMap((e) => listImages(e, cfg.root, file)))].sort();
  if (files.length === 0) throw new QatLensError(`the "${split}" split holds no images`, file, 'ENOIMAGE');
  const nc = cfg.names.length;
  const per = await mapLimit(files, 8, async (img) => {
    const size = await imageSize(img);
    const lf = labelPathOf(img);
    let labels: YoloLabel[] = [];
    if (existsSync(lf)) labels = parseYoloLabels(readFileSync(lf, 'utf8'), lf, nc);
    return { img, size, labels };
  });
  const images: CocoImage[] = [];
  const dsImages: DatasetImage[] = [];
  const annotations: CocoAnnotation[] = [];
  per.forEach(({ img, size, labels }, i) => {
    const id = i + 1;
    images.push({ id, file_name: relative(cfg.root, img), width: size.width, height: size.height });
    dsImages.push({ id, file: img, width: size.width, height: size.height });
    for (const l of labels) {
      const w = l.w * size.width,
        h = l.h * size.height;
      const x = (l.cx - l.w / 2) * size.width,
        y = (l.cy - l.h / 2) * size.height;
      annotations.push({ id: annotations.length + 1, image_id: id, category_id: l.cls + 1, bbox: [x, y, w, h], area: w * h, iscrowd: 0 });
    }
  });
  return {
    format: 'yolo',
    source: file,
    split,
    names: cfg.names,
    categoryIds: cfg.names.map((_, i) => i + 1),
    images: dsImages,
    gt: { images, annotations, categories: cfg.names.map((name, i) => ({ id: i + 1, name })) },
  };
}
