// The few raster operations the shapes generator needs, on interleaved RGB uint8 images. Pixel
// (x, y) covers [x, x+1) x [y, y+1), as the labels assume: a polygon fills the pixels whose
// centres lie inside it. (Measured with the example's float model: with pixel (x, y) taken as
// the point (x, y) instead, its boxes sat 0.45 px right of and below the labels on generated
// images, against 0.0-0.2 px on the Python-made ones.) Resizes are Pillow's separable
// convolutions (bicubic a = -0.5, bilinear) with pixel-centre alignment.

export interface Rgb {
  w: number;
  h: number;
  /** w * h * 3, row-major, RGB. */
  data: Uint8Array;
}
export type Color = readonly [number, number, number];

const bicubic = (x: number): number => {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
};
const bilinear = (x: number): number => {
  x = Math.abs(x);
  return x < 1 ? 1 - x : 0;
};
/** How far fillPolygon grows shapes: Pillow's polygons come out about this much larger than the
 *  exact pixel-centre fill: set so that the example's float model's boxes fit the labels as on the
 *  Python-made images (width bias -0.57 px at 0.2, about -0.3 px on the Python images). */
export const GROW = 0.35;

const clip8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Pillow's resampling coefficients for one axis: per output index, first input index and weights. */
function coeffs(inSize: number, outSize: number, kind: 'bicubic' | 'bilinear'): { lo: Int32Array; w: Float64Array[] } {
  const filter = kind === 'bicubic' ? bicubic : bilinear;
  const support0 = kind === 'bicubic' ? 2 : 1;
  const scale = inSize / outSize;
  const fs = Math.max(scale, 1);
  const support = support0 * fs;
  const lo = new Int32Array(outSize);
  const w: Float64Array[] = [];
  for (let x = 0; x < outSize; x++) {
    const center = (x + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const k = new Float64Array(xmax - xmin);
    let sum = 0;
    for (let i = 0; i < k.length; i++) sum += k[i] = filter((i + xmin - center + 0.5) / fs);
    for (let i = 0; i < k.length; i++) k[i] /= sum;
    lo[x] = xmin;
    w.push(k);
  }
  return { lo, w };
}

/** Resize a planar uint8 image of `c` channels (interleaved), horizontal pass then vertical, rounding to uint8 between them as Pillow does. */
export function resize(src: Uint8Array, w: number, h: number, c: number, ow: number, oh: number, kind: 'bicubic' | 'bilinear'): Uint8Array {
  const cx = coeffs(w, ow, kind);
  const mid = new Uint8Array(ow * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      const k = cx.w[x],
        x0 = cx.lo[x];
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < k.length; i++) s += k[i] * src[(y * w + x0 + i) * c + ch];
        mid[(y * ow + x) * c + ch] = clip8(s);
      }
    }
  }
  const cy = coeffs(h, oh, kind);
  const out = new Uint8Array(ow * oh * c);
  for (let y = 0; y < oh; y++) {
    const k = cy.w[y],
      y0 = cy.lo[y];
    for (let x = 0; x < ow; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < k.length; i++) s += k[i] * mid[((y0 + i) * ow + x) * c + ch];
        out[(y * ow + x) * c + ch] = clip8(s);
      }
    }
  }
  return out;
}

function setPixel(img: Rgb, x: number, y: number, col: Color): void {
  if (x < 0 || y < 0 || x >= img.w || y >= img.h) return;
  const o = (y * img.w + x) * 3;
  img.data[o] = col[0];
  img.data[o + 1] = col[1];
  img.data[o + 2] = col[2];
}

/** A one-pixel line (Bresenham) between the pixels that hold the end points. */
export function line1(img: Rgb, x0: number, y0: number, x1: number, y1: number, col: Color): void {
  let x = Math.floor(x0),
    y = Math.floor(y0);
  const xe = Math.floor(x1),
    ye = Math.floor(y1);
  const dx = Math.abs(xe - x),
    dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1,
    sy = y < ye ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    setPixel(img, x, y, col);
    if (x === xe && y === ye) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

/**
 * Filled polygon: every pixel whose centre lies inside the polygon grown by `grow` pixels
 * (scanline at pixel centres, even-odd; rows just outside the vertical extent sample the nearest
 * row inside it).
 */
export function fillPolygon(img: Rgb, pts: readonly (readonly [number, number])[], col: Color, grow = GROW): void {
  const n = pts.length;
  // In pixel-centre coordinates: pixel (x, y) is the point (x, y).
  const xs = pts.map((p) => p[0] - 0.5),
    ys = pts.map((p) => p[1] - 0.5);
  const ymin = Math.min(...ys),
    ymax = Math.max(...ys);
  const y0 = Math.max(0, Math.ceil(ymin - grow)),
    y1 = Math.min(img.h - 1, Math.floor(ymax + grow));
  const cross: number[] = [];
  for (let y = y0; y <= y1; y++) {
    const yy = Math.min(Math.max(y, ymin), ymax - 1e-9);
    cross.length = 0;
    for (let i = 0; i < n; i++) {
      const j = (i + 1) % n;
      const ya = ys[i],
        yb = ys[j];
      if (ya === yb) continue;
      // Half-open in y so a vertex shared by two edges counts once.
      if ((yy >= ya && yy < yb) || (yy >= yb && yy < ya)) cross.push(xs[i] + ((yy - ya) * (xs[j] - xs[i])) / (yb - ya));
    }
    cross.sort((a, b) => a - b);
    for (let k = 0; k + 1 < cross.length; k += 2) {
      const xa = Math.max(0, Math.ceil(cross[k] - grow)),
        xb = Math.min(img.w - 1, Math.floor(cross[k + 1] + grow));
      for (let x = xa; x <= xb; x++) setPixel(img, x, y, col);
    }
  }
}

/** The polygon's closed outline, one pixel wide. */
export function outline(img: Rgb, pts: readonly (readonly [number, number])[], col: Color): void {
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i],
      b = pts[(i + 1) % pts.length];
    line1(img, a[0], a[1], b[0], b[1], col);
  }
}

/** A line `width` pixels wide: one pixel by Bresenham, wider as the rectangle around it. */
export function line(img: Rgb, x0: number, y0: number, x1: number, y1: number, col: Color, width: number): void {
  if (width <= 1) return line1(img, x0, y0, x1, y1, col);
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len === 0) return line1(img, x0, y0, x1, y1, col);
  const nx = (-(y1 - y0) / len) * (width / 2),
    ny = ((x1 - x0) / len) * (width / 2);
  fillPolygon(
    img,
    [
      [x0 + nx, y0 + ny],
      [x1 + nx, y1 + ny],
      [x1 - nx, y1 - ny],
      [x0 - nx, y0 - ny],
    ],
    col,
    0,
  );
}

/** An arc of the ellipse inscribed in [x0, y0, x1, y1] from `start` to `end` degrees (clockwise on screen, as Pillow's). */
export function arc(img: Rgb, x0: number, y0: number, x1: number, y1: number, start: number, end: number, col: Color, width: number): void {
  while (end < start) end += 360;
  const cx = (x0 + x1) / 2,
    cy = (y0 + y1) / 2,
    rx = (x1 - x0) / 2,
    ry = (y1 - y0) / 2;
  const steps = Math.max(2, Math.ceil((((end - start) / 360) * Math.max(rx, ry) * 2 * Math.PI) / 2));
  let px = cx + rx * Math.cos((start * Math.PI) / 180),
    py = cy + ry * Math.sin((start * Math.PI) / 180);
  for (let i = 1; i <= steps; i++) {
    const a = ((start + ((end - start) * i) / steps) * Math.PI) / 180;
    const qx = cx + rx * Math.cos(a),
      qy = cy + ry * Math.sin(a);
    line(img, px, py, qx, qy, col, width);
    px = qx;
    py = qy;
  }
}

/** Gaussian blur of standard deviation sigma (Pillow's GaussianBlur(radius = sigma)), kernel to 3 sigma, edges extended. */
export function gaussianBlur(img: Rgb, sigma: number): void {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const { w, h, data } = img;
  const tmp = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * data[(y * w + Math.min(w - 1, Math.max(0, x + i))) * 3 + c];
        tmp[(y * w + x) * 3 + c] = s;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * tmp[(Math.min(h - 1, Math.max(0, y + i)) * w + x) * 3 + c];
        data[(y * w + x) * 3 + c] = clip8(s);
      }
    }
  }
}

/** Mean colour of the pixels [x0, x1) x [y0, y1); pixels outside the image count as black (Pillow's crop pads so). */
export function meanColor(img: Rgb, x0: number, y0: number, x1: number, y1: number): [number, number, number] {
  const s = [0, 0, 0];
  for (let y = Math.max(0, y0); y < Math.min(img.h, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.w, x1); x++) {
      const o = (y * img.w + x) * 3;
      s[0] += img.data[o];
      s[1] += img.data[o + 1];
      s[2] += img.data[o + 2];
    }
  }
  const n = Math.max(1, (x1 - x0) * (y1 - y0));
  return [s[0] / n, s[1] / n, s[2] / n];
}
