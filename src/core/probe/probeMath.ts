// Soft rounding at threshold δ (docs/definitions.md): per weight, u = W/s + z in float64; in-range weights
// (qmin-0.5 <= u <= qmax+0.5) whose distance to the nearest rounding threshold d = |f - 0.5| is
// below δ keep their latent value (clamped to [qmin, qmax]); every other weight takes its integer
// state. δ = 0 is hard quantization exactly. The result is written as float weights s*(v - z).

import { channelIndexer, quantizeLinear } from '../onnx/qdq';

/** What soft rounding needs of a weight quantizer (a subset of model.ts's Quantizer). */
export interface WeightQuant {
  scale: ArrayLike<number>;
  zeroPoint: ArrayLike<number>;
  /** Axis of per-channel scale; null or scale.length 1 = per tensor. */
  axis: number | null;
  qmin: number;
  qmax: number;
}

/** Channel index of each element for the quantizer's scale. */
const channelsOf = (shape: number[], q: WeightQuant) => channelIndexer(shape, q.axis, q.scale.length);

// The probe's hard variant must equal what the QDQ model actually runs, so integer states come
// from quantizeLinear in the weights' own precision (float32 divides round to float32 first), not
// from roundHalfEven(u) with u in float64: near a tie the two can differ by one step.

/** Integer states of latent weights as QuantizeLinear computes them at run time. */
export function hardIntegers(latent: ArrayLike<number>, shape: number[], q: WeightQuant): Int32Array {
  const ch = channelsOf(shape, q);
  const f32 = latent instanceof Float32Array;
  const out = new Int32Array(latent.length);
  for (let i = 0; i < latent.length; i++) {
    const c = ch(i);
    out[i] = quantizeLinear(latent[i], q.scale[c], q.zeroPoint[c], q.qmin, q.qmax, f32);
  }
  return out;
}

export interface SoftRoundResult {
  /** Quantization-grid values v (integers, or latent u for soft-rounded weights), float64. */
  values: Float64Array;
  /** Float weights s*(v - z) as float32, the tensor the variant model carries. */
  weights: Float32Array;
  /** Weights that kept their latent value (in range, d < δ). */
  soft: number;
  /** In-range weights (the denominator of NT(δ)). */
  inRange: number;
  /** Weights outside [qmin - 0.5, qmax + 0.5]. */
  clipped: number;
  /** Where integers were given: how many differ from the run-time rounding of the latent weights (ties, or a mismatched pair of files). */
  integerMismatches: number;
}

/**
 * Soft-round one weight tensor at δ. `integers`, when the file stores them, are the hard states
 * (the truth: docs/definitions.md); otherwise they are computed from the latent weights with ONNX rounding.
 */
export function softRound(latent: ArrayLike<number>, shape: number[], q: WeightQuant, delta: number, integers?: ArrayLike<number>): SoftRoundResult {
  const n = latent.length;
  if (integers && integers.length !== n) throw new Error(`${integers.length} integer weights for ${n} latent weights`);
  const ch = channelsOf(shape, q);
  const f32 = latent instanceof Float32Array;
  const values = new Float64Array(n);
  const weights = new Float32Array(n);
  let soft = 0,
    inRange = 0,
    clipped = 0,
    integerMismatches = 0;
  for (let i = 0; i < n; i++) {
    const c = ch(i);
    const s = q.scale[c],
      z = q.zeroPoint[c];
    const u = latent[i] / s + z;
    const hard = quantizeLinear(latent[i], s, z, q.qmin, q.qmax, f32);
    if (integers && integers[i] !== hard) integerMismatches++;
    let v = integers ? integers[i] : hard;
    if (u < q.qmin - 0.5 || u > q.qmax + 0.5) clipped++;
    else {
      inRange++;
      const f = u - Math.floor(u);
      if (Math.abs(f - 0.5) < delta) {
        soft++;
        v = Math.min(q.qmax, Math.max(q.qmin, u));
      }
    }
    values[i] = v;
    weights[i] = s * (v - z);
  }
  return { values, weights, soft, inRange, clipped, integerMismatches };
}

/** Dequantized integer weights s*(q - z) as float32 (what DequantizeLinear computes). */
export function dequantize(integers: ArrayLike<number>, shape: number[], q: WeightQuant): Float32Array {
  const ch = channelsOf(shape, q);
  const out = new Float32Array(integers.length);
  for (let i = 0; i < integers.length; i++) {
    const c = ch(i);
    out[i] = q.scale[c] * (integers[i] - q.zeroPoint[c]);
  }
  return out;
}
