// A TypeScript port of tools/example/make_shapes.py, the generator of the bundled example's data:
// five shape classes on cluttered, textured backgrounds, 320x320 JPEGs (quality 80). The same
// distribution, not the same pixels: its random numbers come from src/core/rng.ts, not numpy's.
// Each image is a pure function of (seed, split, index).
import sharp from 'sharp';
import { Rng } from '../../rng';
import { arc, fillPolygon, gaussianBlur, line, meanColor, outline, resize, type Color, type Rgb } from './raster';

export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'star', 'cross'] as const;
export const IMG = 320;
export const SHAPES_SEED = 20261126;
export const JPEG_QUALITY = 80;
/** Split ids mix into the seed, so every split is its own stream. */
export const SPLIT_IDS = { train: 0, calib: 1, val: 2, holdout: 3 } as const;
export type ShapesSplit = keyof typeof SPLIT_IDS;

/** (class, x0, y0, x1, y1) in pixels. */
export type ShapeBox = [number, number, number, number, number];

const triple = (f: () => number): [number, number, number] => [f(), f(), f()];

function background(rng: Rng): Rgb {
  const n = IMG * IMG;
  const base = triple(() => rng.uniform(30, 225));
  const lh = rng.intIn(3, 7),
    lw = rng.intIn(3, 7);
  const low = new Uint8Array(lh * lw * 3);
  for (let i = 0; i < low.length; i++) low[i] = Math.trunc(Math.min(255, Math.max(0, rng.uniform(-60, 60) + 128)));
  const lowImg = resize(low, lw, lh, 3, IMG, IMG, 'bicubic');
  const img = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) img[i] = base[i % 3] + (lowImg[i] - 128);
  const kind = rng.intIn(0, 3);
  if (kind === 0) {
    // stripes at a random angle
    const a = rng.uniform(0, Math.PI),
      period = rng.uniform(6, 30);
    const amp = triple(() => rng.uniform(5, 25));
    const ca = Math.cos(a),
      sa = Math.sin(a),
      k = (2 * Math.PI) / period;
    for (let y = 0; y < IMG; y++) {
      for (let x = 0; x < IMG; x++) {
        const wave = Math.sin((x * ca + y * sa) * k);
        const o = (y * IMG + x) * 3;
        img[o] += wave * amp[0];
        img[o + 1] += wave * amp[1];
        img[o + 2] += wave * amp[2];
      }
    }
  } else if (kind === 1) {
    // mid-frequency blotches
    const mh = rng.intIn(16, 40),
      mw = rng.intIn(16, 40);
    const mid = new Uint8Array(mh * mw);
    for (let i = 0; i < mid.length; i++) mid[i] = Math.trunc((rng.uniform(-1, 1) + 1) * 127.5);
    const midImg = resize(mid, mw, mh, 1, IMG, IMG, 'bilinear');
    const amp = triple(() => rng.uniform(5, 25));
    for (let p = 0; p < n; p++) {
      const v = midImg[p] / 127.5 - 1;
      img[p * 3] += v * amp[0];
      img[p * 3 + 1] += v * amp[1];
      img[p * 3 + 2] += v * amp[2];
    }
  }
  const sigma = rng.uniform(2, 7);
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) data[i] = Math.trunc(Math.min(255, Math.max(0, img[i] + rng.normal() * sigma)));
  return { w: IMG, h: IMG, data };
}

/** Vertices of a shape of "radius" r centred at (cx, cy), rotated by rot. */
export function shapePoints(cls: number, cx: number, cy: number, r: number, rot: number): [number, number][] {
  const c = Math.cos(rot),
    s = Math.sin(rot);
  if (cls === 4) {
    // cross: a plus sign with arm half-width 0.33 r
    const w = 0.33 * r;
    const pts = [
      [w, r],
      [w, w],
      [r, w],
      [r, -w],
      [w, -w],
      [w, -r],
      [-w, -r],
      [-w, -w],
      [-r, -w],
      [-r, w],
      [-w, w],
      [-w, r],
    ];
    return pts.map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c]);
  }
  const [n, radii] = cls === 0 ? [48, [r]] : cls === 1 ? [4, [r]] : cls === 2 ? [3, [r]] : [10, [r, r * 0.45]];
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const a = rot + (2 * Math.PI * i) / n;
    const rr = radii[i % radii.length];
    out.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
  }
  return out;
}

function iou(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + 1e-9);
}

const color = (rng: Rng): Color => triple(() => rng.intIn(0, 256));

/** The image before blur and JPEG, its blur sigma (0: none) and its boxes. */
export function drawShapesImage(split: ShapesSplit, index: number, seed = SHAPES_SEED): { rgb: Rgb; blur: number; boxes: ShapeBox[] } {
  const rng = new Rng(seed, SPLIT_IDS[split], index);
  const img = background(rng);
  // clutter: unlabelled lines and arcs
  for (let i = rng.intIn(2, 9); i > 0; i--) {
    const col = color(rng);
    const p = [rng.uniform(0, IMG), rng.uniform(0, IMG), rng.uniform(0, IMG), rng.uniform(0, IMG)];
    if (rng.float() < 0.5) line(img, p[0], p[1], p[2], p[3], col, rng.intIn(1, 4));
    else {
      const x0 = Math.min(p[0], p[2]),
        y0 = Math.min(p[1], p[3]);
      const start = rng.uniform(0, 360),
        end = rng.uniform(0, 360);
      arc(img, x0, y0, x0 + Math.abs(p[2] - p[0]) + 5, y0 + Math.abs(p[3] - p[1]) + 5, start, end, col, rng.intIn(1, 3));
    }
  }
  const boxes: ShapeBox[] = [];
  for (let i = rng.intIn(1, 11); i > 0; i--) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const cls = rng.intIn(0, SHAPE_NAMES.length);
      const r = Math.exp(rng.uniform(Math.log(5), Math.log(70))); // 10..140 px across, many small
      const cx = rng.uniform(-0.2 * r, IMG + 0.2 * r),
        cy = rng.uniform(-0.2 * r, IMG + 0.2 * r);
      const pts = shapePoints(cls, cx, cy, r, rng.uniform(0, 2 * Math.PI));
      const xs = pts.map((q) => q[0]),
        ys = pts.map((q) => q[1]);
      const box = [Math.max(0, Math.min(...xs)), Math.max(0, Math.min(...ys)), Math.min(IMG, Math.max(...xs)), Math.min(IMG, Math.max(...ys))];
      if (box[2] - box[0] < 6 || box[3] - box[1] < 6) continue; // mostly outside the image
      if (boxes.some((b) => iou(box, b.slice(1)) > 0.35)) continue; // keep overlap partial so labels stay meaningful
      let col: Color = color(rng);
      if (rng.float() < 0.7) {
        // push the colour away from the local background
        const bg = meanColor(img, Math.trunc(box[0]), Math.trunc(box[1]), Math.trunc(box[2]) + 1, Math.trunc(box[3]) + 1);
        col = [0, 1, 2].map((k) => (Math.abs(col[k] - bg[k]) < 60 ? Math.trunc((bg[k] + 128) % 256) : col[k])) as unknown as Color;
      }
      const edge = rng.float() < 0.3 ? color(rng) : undefined;
      fillPolygon(img, pts, col);
      if (edge) outline(img, pts, edge);
      boxes.push([cls, box[0], box[1], box[2], box[3]]);
      break;
    }
  }
  const blur = rng.float() < 0.3 ? rng.uniform(0.3, 1.0) : 0;
  return { rgb: img, blur, boxes };
}

/** One generated image as JPEG bytes, and its boxes. */
export async function makeShapesImage(split: ShapesSplit, index: number, seed = SHAPES_SEED): Promise<{ jpeg: Buffer; boxes: ShapeBox[] }> {
  const { rgb, blur, boxes } = drawShapesImage(split, index, seed);
  // Our own blur: sharp's drops kernel taps under 0.2 of the peak, which leaves sigma < 0.56 unblurred.
  if (blur > 0) gaussianBlur(rgb, blur);
  const s = sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), { raw: { width: rgb.w, height: rgb.h, channels: 3 } });
  return { jpeg: await s.jpeg({ quality: JPEG_QUALITY }).toBuffer(), boxes };
}
