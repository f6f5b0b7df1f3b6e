// Image -> network input exactly as YOLOv5's validation loader prepares it (val.py with an ONNX
// model: LoadImagesAndLabels with augment=False, rect=False):
//   1. load_image: r = S / max(h0, w0); if r != 1 resize to (ceil(w0*r), ceil(h0*r)), INTER_AREA
//      when shrinking, INTER_LINEAR when enlarging;
//   2. letterbox(auto=False, scaleup=False): no further resize, pad with 114 to S x S, the padding
//      split top = round(dh - 0.1), bottom = round(dh + 0.1) (likewise left/right), dh = (S - h) / 2;
//   3. BGR->RGB, HWC->CHW, /255, float32.
// Boxes go back with scale_boxes(ratio_pad): subtract the float pad (dw, dh), divide by the gain
// h/h0, clip to the original image.
// Resampling: sharp (libvips) is not OpenCV. Shrinking uses libvips' reduce with a linear
// (triangle) kernel widened by the shrink factor: anti-aliased like INTER_AREA, but a triangle
// rather than a box filter, so pixel values differ slightly (edges a bit softer). Enlarging uses
// bilinear interpolation like INTER_LINEAR. An image already at the input size is not resampled.
import sharp from 'sharp';
import { QatLensError } from '../errors';

export interface LetterboxGeometry {
  /** Original size (after EXIF orientation). */
  width0: number;
  height0: number;
  /** Size of the resized image inside the canvas. */
  width: number;
  height: number;
  /** YOLOv5's gain for scale_boxes: resized h / original h. */
  gain: number;
  /** Float padding (dw, dh) that scale_boxes subtracts. */
  padX: number;
  padY: number;
  /** Integer border actually added. */
  left: number;
  top: number;
}

/** Python's round() of a value that is never an exact .5 here (dh ± 0.1). */
const pyRound = (x: number) => Math.round(x) + 0; // + 0: no -0

export function letterboxGeometry(width0: number, height0: number, inW: number, inH: number): LetterboxGeometry {
  // load_image resizes the long side to the input size; for a non-square input the smaller ratio.
  const r = Math.min(inW / width0, inH / height0);
  let width = width0,
    height = height0;
  if (r !== 1) {
    width = Math.min(inW, Math.ceil(width0 * r));
    height = Math.min(inH, Math.ceil(height0 * r));
  }
  const padX = (inW - width) / 2,
    padY = (inH - height) / 2;
  return { width0, height0, width, height, gain: height / height0, padX, padY, left: pyRound(padX - 0.1), top: pyRound(padY - 0.1) };
}

/**
 * Decode an image file and write its letterboxed RGB/255 CHW planes into `out` at `offset`
 * (3 * inH * inW floats). Returns the geometry needed to map boxes back.
 */
export async function letterboxInto(file: string, inW: number, inH: number, out: Float32Array, offset = 0): Promise<LetterboxGeometry> {
  let data: Buffer, info: sharp.OutputInfo, g: LetterboxGeometry;
  try {
    const img = sharp(file, { failOn: 'error' }).rotate(); // EXIF orientation, as cv2.imread applies it
    const meta = await img.metadata();
    if (!meta.width || !meta.height) throw new Error('image has no size');
    const swap = (meta.orientation ?? 1) >= 5;
    const w0 = swap ? meta.height : meta.width,
      h0 = swap ? meta.width : meta.height;
    g = letterboxGeometry(w0, h0, inW, inH);
    let p = img.removeAlpha().toColourspace('srgb');
    if (g.width !== w0 || g.height !== h0) p = p.resize(g.width, g.height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
    p = p.extend({ top: g.top, bottom: inH - g.height - g.top, left: g.left, right: inW - g.width - g.left, background: { r: 114, g: 114, b: 114 } });
    ({ data, info } = await p.raw().toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new QatLensError(`cannot decode image (${(err as Error).message})`, file, 'EIMAGE');
  }
  if (info.width !== inW || info.height !== inH || info.channels < 3) {
    throw new QatLensError(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${inW}x${inH}x3`, file, 'EIMAGE');
  }
  const plane = inW * inH,
    ch = info.channels;
  const r = offset,
    gOff = offset + plane,
    b = offset + 2 * plane;
  for (let i = 0, j = 0; i < plane; i++, j += ch) {
    out[r + i] = data[j] / 255;
    out[gOff + i] = data[j + 1] / 255;
    out[b + i] = data[j + 2] / 255;
  }
  return g;
}

/** scale_boxes + clip_boxes for xyxy boxes in place (n boxes from index 0). */
export function boxesToOriginal(xyxy: Float32Array | Float64Array, n: number, g: LetterboxGeometry, clip = true): void {
  const cx = (v: number) => (clip ? Math.min(Math.max(v, 0), g.width0) : v);
  const cy = (v: number) => (clip ? Math.min(Math.max(v, 0), g.height0) : v);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    xyxy[o] = cx((xyxy[o] - g.padX) / g.gain);
    xyxy[o + 1] = cy((xyxy[o + 1] - g.padY) / g.gain);
    xyxy[o + 2] = cx((xyxy[o + 2] - g.padX) / g.gain);
    xyxy[o + 3] = cy((xyxy[o + 3] - g.padY) / g.gain);
  }
}
