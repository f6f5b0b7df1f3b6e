// Re-quantizing one layer's latent weights at a higher bit-width, per output channel, symmetric,
// with its own scale search (docs/precision.md):
//   for channel c with latent weights w (float32 values, computed in float64), m = max|w|,
//   qmax = 2^(b-1) - 1, integer range [-qmax, qmax] (narrow, symmetric: zero point 0);
//   for each clipping ratio r in CLIP_RATIOS (1.00, 0.99, ..., 0.50, in that order):
//     s(r) = float32((r * m) / qmax)            (the scale the model will store)
//     q(r) = clamp(roundHalfEven(w / s(r)), -qmax, qmax)
//     E(r) = sum over the channel, in memory order, of (w - s(r) * q(r))^2
//   the channel takes the first r with the smallest E (min-MSE over the grid). A channel of zeros
//   gets s = 1, q = 0. tools/fixtures/precision/make_precision_fixtures.py is the numpy reference.
import { roundHalfEven } from '../onnx/qdq';

/** Clipping ratios searched, largest first: 1.00 down to 0.50 in steps of 0.01. */
export const CLIP_RATIOS: readonly number[] = Array.from({ length: 51 }, (_, k) => (100 - k) / 100);

export interface Requantized {
  bits: number;
  /** Output-channel axis of the weight tensor. */
  axis: number;
  /** Integer weights in [-qmax, qmax], row-major like the latent tensor. */
  integers: Int8Array;
  /** Per-channel scale (float32: what DequantizeLinear multiplies by). */
  scale: Float32Array;
  /** Clipping ratio chosen per channel. */
  ratio: Float64Array;
  /** Sum of squared weight error per channel at the chosen scale. */
  sse: Float64Array;
  qmax: number;
}

/** Output-channel axis of a weight consumed by `op` (Conv: 0; ConvTranspose: 1; Gemm: 0 if transB else 1; MatMul: last). */
export function outputAxis(op: string, rank: number, transB = 0): number {
  if (op === 'ConvTranspose') return 1;
  if (op === 'Gemm') return transB ? 0 : 1;
  if (op === 'MatMul') return rank - 1;
  return 0;
}

export function requantizePerChannel(latent: ArrayLike<number>, shape: number[], bits: number, axis = 0, ratios: readonly number[] = CLIP_RATIOS): Requantized {
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new Error(`bits must be a whole number in [2, 8], got ${bits}`);
  const qmax = 2 ** (bits - 1) - 1;
  const dim = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  if (outer * dim * inner !== latent.length) throw new Error(`${latent.length} weights for shape [${shape.join(', ')}]`);
  const integers = new Int8Array(latent.length);
  const scale = new Float32Array(dim);
  const ratio = new Float64Array(dim);
  const sse = new Float64Array(dim);
  // Element indices of channel c, in increasing memory order.
  const indices = (c: number): Int32Array => {
    const idx = new Int32Array(outer * inner);
    let k = 0;
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) idx[k++] = (o * dim + c) * inner + j;
    return idx;
  };
  for (let c = 0; c < dim; c++) {
    const idx = indices(c);
    let m = 0;
    for (const i of idx) m = Math.max(m, Math.abs(latent[i]));
    if (m === 0) {
      scale[c] = 1;
      ratio[c] = 1;
      continue; // integers stay 0, error 0
    }
    let best = Infinity,
      bestS = 0,
      bestR = 1;
    for (const r of ratios) {
      const s = Math.fround((r * m) / qmax);
      let e = 0;
      for (const i of idx) {
        const w = latent[i];
        const q = Math.min(qmax, Math.max(-qmax, roundHalfEven(w / s)));
        const d = w - s * q;
        e += d * d;
      }
      if (e < best) {
        best = e;
        bestS = s;
        bestR = r;
      }
    }
    scale[c] = bestS;
    ratio[c] = bestR;
    sse[c] = best;
    for (const i of idx) integers[i] = Math.min(qmax, Math.max(-qmax, roundHalfEven(latent[i] / bestS)));
  }
  return { bits, axis, integers, scale, ratio, sse, qmax };
}
