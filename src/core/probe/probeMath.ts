// Soft rounding at threshold δ (design.md): per weight, u = W/s + z in float64; in-range weights
// (qmin-0.5 <= u <= qmax+0.5) whose distance to the nearest rounding threshold d = |f - 0.5| is
// below δ keep their latent value (clamped to [qmin, qmax]); every other weight takes its integer
// state. δ = 0 is hard quantization exactly. The result is written as float weights s*(v - z).

/** What soft rounding needs of a weight quantizer (a subset of model.ts's Quantizer). */
export interface WeightQuant {
  scale: ArrayLike<number>;
  zeroPoint: ArrayLike<number>;
  /** Axis of per-channel scale; null or scale.length 1 = per tensor. */
  axis: number | null;
  qmin: number;
  qmax: number;
}

/** Round half to even, as ONNX QuantizeLinear does (numpy/np.rint semantics). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // half up
  return (r - x === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0; // + 0: no -0, as integers have none
}

/** Channel index of each element: the quantizer's axis over a row-major shape. */
export function channelIndexer(shape: number[], q: Pick<WeightQuant, 'scale' | 'axis'>): (i: number) => number {
  if (q.scale.length === 1 || q.axis === null) return () => 0;
  const axis = q.axis < 0 ? q.axis + shape.length : q.axis;
  const dim = shape[axis];
  if (dim !== q.scale.length) throw new Error(`scale has ${q.scale.length} values but axis ${axis} of [${shape.join(', ')}] has ${dim}`);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return (i) => Math.floor(i / inner) % dim;
}

/**
 * The integer state QuantizeLinear computes at run time: onnxruntime divides in the weights' own
 * precision (float32: x / s rounded to float32, then round half to even, + z, saturate). Near a tie
 * that can differ by one step from roundHalfEven(u) with u in float64 (design.md's u); the probe's
 * hard variant must equal what the QDQ model actually runs, so it uses this.
 */
export function runtimeInteger(w: number, s: number, z: number, qmin: number, qmax: number, float32: boolean): number {
  const x = float32 ? Math.fround(w / s) : w / s;
  return Math.min(qmax, Math.max(qmin, roundHalfEven(x) + z));
}

/** Integer states of latent weights as QuantizeLinear computes them (see runtimeInteger). */
export function hardIntegers(latent: ArrayLike<number>, shape: number[], q: WeightQuant): Int32Array {
  const ch = channelIndexer(shape, q);
  const f32 = latent instanceof Float32Array;
  const out = new Int32Array(latent.length);
  for (let i = 0; i < latent.length; i++) {
    const c = ch(i);
    out[i] = runtimeInteger(latent[i], q.scale[c], q.zeroPoint[c], q.qmin, q.qmax, f32);
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
 * (the truth: design.md); otherwise they are computed from the latent weights with ONNX rounding.
 */
export function softRound(latent: ArrayLike<number>, shape: number[], q: WeightQuant, delta: number, integers?: ArrayLike<number>): SoftRoundResult {
  const n = latent.length;
  if (integers && integers.length !== n) throw new Error(`${integers.length} integer weights for ${n} latent weights`);
  const ch = channelIndexer(shape, q);
  const f32 = latent instanceof Float32Array;
  const values = new Float64Array(n);
  const weights = new Float32Array(n);
  let soft = 0, inRange = 0, clipped = 0, integerMismatches = 0;
  for (let i = 0; i < n; i++) {
    const c = ch(i);
    const s = q.scale[c], z = q.zeroPoint[c];
    const u = latent[i] / s + z;
    const hard = runtimeInteger(latent[i], s, z, q.qmin, q.qmax, f32);
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
  const ch = channelIndexer(shape, q);
  const out = new Float32Array(integers.length);
  for (let i = 0; i < integers.length; i++) {
    const c = ch(i);
    out[i] = q.scale[c] * (integers[i] - q.zeroPoint[c]);
  }
  return out;
}
