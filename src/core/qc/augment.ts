// YOLOv5's photometric and flip augmentations for QC's training images, applied to the letterboxed
// CHW float image (RGB / 255) as YOLOv5's loader applies them after letterboxing: HSV gains
// (augment_hsv: hue, saturation, value each scaled by U(-1, 1)·gain + 1) and a left-right mirror.
import type { Rng } from '../rng';

export interface AugmentOptions {
  /** Probability of mirroring an image left-right (YOLOv5's fliplr, 0.5 in its hyps; default 0). */
  fliplr?: number;
  /** Hue, saturation, value gains (YOLOv5's hsv_h/s/v: 0.015, 0.7, 0.4); absent: none. */
  hsv?: [number, number, number];
}

/** What happens to one image of a batch. */
export interface ImageAugment {
  flip: boolean;
  /** Multipliers of hue, saturation and value. */
  hsv?: [number, number, number];
}

export const YOLOV5_HSV: [number, number, number] = [0.015, 0.7, 0.4];

/** Draws each image's augmentation (undefined when none is asked). */
export function planAugment(n: number, o: AugmentOptions, rng: Rng): ImageAugment[] | undefined {
  const p = o.fliplr ?? 0;
  if (p <= 0 && !o.hsv) return undefined;
  return Array.from({ length: n }, () => {
    const flip = p > 0 && rng.uniform(0, 1) < p;
    const hsv = o.hsv && (o.hsv.map((g) => rng.uniform(-1, 1) * g + 1) as [number, number, number]);
    return hsv ? { flip, hsv } : { flip };
  });
}

/** Mirrors one CHW image left-right in place. */
export function flipLeftRight(data: Float32Array, offset: number, h: number, w: number): void {
  for (let row = 0; row < 3 * h; row++) data.subarray(offset + row * w, offset + (row + 1) * w).reverse();
}

/**
 * Scales hue (wrapping), saturation and value (clipped to [0, 1]) of one CHW RGB image in place,
 * through the hexcone HSV model OpenCV's BGR2HSV uses.
 */
export function hsvJitter(data: Float32Array, offset: number, h: number, w: number, [gh, gs, gv]: [number, number, number]): void {
  const n = h * w;
  for (let i = 0; i < n; i++) {
    const r = data[offset + i],
      g = data[offset + n + i],
      b = data[offset + 2 * n + i];
    const max = Math.max(r, g, b),
      min = Math.min(r, g, b),
      c = max - min;
    let hue = 0; // in [0, 6)
    if (c > 0) hue = max === r ? ((g - b) / c + 6) % 6 : max === g ? (b - r) / c + 2 : (r - g) / c + 4;
    const s = max > 0 ? c / max : 0;
    const h2 = (((hue * gh) % 6) + 6) % 6;
    const s2 = Math.min(1, Math.max(0, s * gs)),
      v2 = Math.min(1, Math.max(0, max * gv));
    const c2 = v2 * s2,
      x = c2 * (1 - Math.abs((h2 % 2) - 1)),
      m = v2 - c2;
    const k = Math.floor(h2);
    const [r2, g2, b2] = k === 0 ? [c2, x, 0] : k === 1 ? [x, c2, 0] : k === 2 ? [0, c2, x] : k === 3 ? [0, x, c2] : k === 4 ? [x, 0, c2] : [c2, 0, x];
    data[offset + i] = r2 + m;
    data[offset + n + i] = g2 + m;
    data[offset + 2 * n + i] = b2 + m;
  }
}
