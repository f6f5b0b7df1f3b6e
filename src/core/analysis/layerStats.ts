// Per-layer quantities of design.md, in one pass over the tensor: u = W/s + z (float64),
// q = clamp(roundHalfEven(u)), clipped, f, d, NT(δ), C(δ), the 20-bin histogram, mean d,
// and NT/C per channel. No allocation per weight; per-channel counters are per layer.
import { QatLensError } from '../errors';
import type { QuantizedLayer, Quantizer } from '../model';
import { roundHalfEven } from '../onnx/qdq';
import type { ChannelSummary, Granularity, LayerReport } from './types';

/** 20 bins: the exact-bin correction below relies on 20 = 16 + 4. */
export const HISTOGRAM_BINS = 20;

/** How a tensor of `shape` splits along `axis`: outer × channels × inner, row-major. */
export function splitAxis(shape: number[], axis: number): { outer: number; channels: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, channels: shape.length ? shape[axis] : 1, inner };
}

/** Checks a quantizer against its tensor; returns the axis its scale runs along (null = per tensor). */
export function checkQuantizer(q: Quantizer, shape: number[], what: string): number | null {
  if (q.scale.length === 0 || q.zeroPoint.length !== q.scale.length) {
    throw new QatLensError(`${what}: quantizer has ${q.scale.length} scales and ${q.zeroPoint.length} zero points`);
  }
  for (let i = 0; i < q.scale.length; i++) {
    if (!(q.scale[i] > 0) || !Number.isFinite(q.scale[i])) throw new QatLensError(`${what}: scale ${i} is ${q.scale[i]}, not a positive number`);
  }
  if (!(q.qmax > q.qmin)) throw new QatLensError(`${what}: integer range [${q.qmin}, ${q.qmax}] is empty`);
  if (q.axis === null || q.scale.length === 1) return q.scale.length === 1 ? null : 0;
  if (q.axis < 0 || q.axis >= shape.length || shape[q.axis] !== q.scale.length) {
    throw new QatLensError(`${what}: ${q.scale.length} per-channel scales along axis ${q.axis} do not fit shape [${shape.join(', ')}]`);
  }
  return q.axis;
}

export function summarizeScale(values: Float64Array, axis: number | null): number | ChannelSummary {
  if (axis === null || values.length === 1) return values[0];
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { channels: values.length, axis, min, max, mean: sum / values.length, values: Array.from(values) };
}

export function summarizeZeroPoint(values: Float64Array): number | number[] {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return Array.from(values);
  return values[0];
}

export const granularityOf = (axis: number | null): Granularity => (axis === null ? 'per-tensor' : 'per-channel');

/** Stats of one layer with the flag fields unset (flagLayers fills them). */
export type LayerStats = LayerReport;

/**
 * Computes every per-layer quantity in one pass. When `qOut` is given (length = weight count) it
 * receives the integer states: the stored integers where the file has them, else clamp(roundHalfEven(u)).
 */
export function analyzeLayer(layer: QuantizedLayer, delta: number, qOut?: Int32Array): LayerStats {
  const { weight: w, weightQuantizer: qz } = layer;
  const what = `layer "${layer.name}"`;
  const count = w.shape.reduce((a, b) => a * b, 1);
  const lat = w.latent;
  const ints = w.integer;
  if (!lat && !ints) throw new QatLensError(`${what}: neither latent nor integer weights`);
  if (lat && lat.length !== count) throw new QatLensError(`${what}: ${lat.length} latent weights for shape [${w.shape.join(', ')}]`);
  if (ints && ints.length !== count) throw new QatLensError(`${what}: ${ints.length} integer weights for shape [${w.shape.join(', ')}]`);
  if (qOut && qOut.length !== count) throw new QatLensError(`${what}: integer-state buffer has the wrong length`);
  const axis = checkQuantizer(qz, w.shape, what);
  // Per-channel stats run along the quantizer's axis, else along the output channels (axis 0).
  const statAxis = axis ?? 0;
  const { outer, channels, inner } = splitAxis(w.shape, statAxis);
  const { qmin, qmax } = qz;

  const base: LayerStats = {
    name: layer.name,
    op: layer.op,
    shape: [...w.shape],
    storedDtype: w.storedDtype,
    bits: qz.bits,
    bitsSource: qz.bitsSource,
    qmin,
    qmax,
    quantizerKind: qz.kind,
    granularity: granularityOf(axis),
    scale: summarizeScale(qz.scale, axis),
    zeroPoint: summarizeZeroPoint(qz.zeroPoint),
    count,
    hasLatent: !!lat,
    integerSource: ints ? 'stored' : 'computed',
    storedIntegerMismatches: null,
    clippedFraction: null,
    inRange: null,
    nearThresholdFraction: null,
    concentration: null,
    meanDistance: null,
    histogram: null,
    perChannel: null,
    flagged: false,
    reason: '',
    z: null,
    pValue: null,
    log10PValue: null,
    pValueAdjusted: null,
    log10PValueAdjusted: null,
  };

  if (!lat) {
    if (qOut) qOut.set(ints!);
    return base;
  }

  const chIn = new Float64Array(channels);
  const chNear = new Float64Array(channels);
  const hist = new Int32Array(HISTOGRAM_BINS);
  const needQ = !!ints || !!qOut;
  const nearCounter = new Int32Array(2); // [not near, near]; a tensor has < 2^31 weights
  const lo = qmin - 0.5;
  const hi = qmax + 0.5;
  let clipped = 0;
  let sumD = 0;
  let mismatches = 0;
  const perScale = axis !== null; // scale index = channel index of statAxis
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = perScale ? qz.scale[c] : qz.scale[0];
      const z = perScale ? qz.zeroPoint[c] : qz.zeroPoint[0];
      let nIn = 0;
      const nearBefore = nearCounter[1];
      const end = i + inner;
      for (; i < end; i++) {
        const u = lat[i] / s + z;
        if (!(u >= lo && u <= hi)) {
          clipped++; // NaN weights land here too: never counted as in range
          if (needQ) {
            const q = u < lo ? qmin : qmax;
            if (ints) {
              if (ints[i] !== q) mismatches++;
            } else qOut![i] = q;
          }
          continue;
        }
        const fl = Math.floor(u);
        const f = u - fl;
        nIn++;
        // Branch-free on purpose: d < δ and f < 0.5 are coin flips, and mispredictions cost 2x here.
        const d = Math.abs(f - 0.5);
        sumD += d;
        nearCounter[+(d < delta)]++;
        // Bin floor(20 f) in exact arithmetic: fl(20 f) can round up onto an edge (f = 0.8999999999999999
        // gives 18.0). Only then, recover the rounding error of 16f + 4f (both exact) by TwoSum.
        const x = f * HISTOGRAM_BINS;
        let bin = x | 0;
        if (x === bin && bin > 0) {
          const a1 = f * 16;
          const a2 = f * 4;
          const bv = x - a1;
          if (a1 - (x - bv) + (a2 - bv) < 0) bin--;
        }
        hist[bin]++;
        if (needQ) {
          // Half to even without branches: up when f > 0.5; at a tie, up only from an odd floor.
          let q = fl + +(f > 0.5) + (+(f === 0.5) & fl);
          if (q < qmin) q = qmin;
          else if (q > qmax) q = qmax;
          if (ints) {
            if (ints[i] !== q) mismatches++;
          } else qOut![i] = q;
        }
      }
      chIn[c] += nIn;
      chNear[c] += nearCounter[1] - nearBefore;
    }
  }
  if (ints && qOut) qOut.set(ints);

  let inRange = 0;
  let near = 0;
  const ntC: (number | null)[] = new Array(channels);
  const cC: (number | null)[] = new Array(channels);
  for (let c = 0; c < channels; c++) {
    inRange += chIn[c];
    near += chNear[c];
    ntC[c] = chIn[c] > 0 ? chNear[c] / chIn[c] : null;
    cC[c] = chIn[c] > 0 ? chNear[c] / chIn[c] / (2 * delta) : null;
  }
  const nt = inRange > 0 ? near / inRange : null;
  return {
    ...base,
    storedIntegerMismatches: ints ? mismatches : null,
    clippedFraction: count > 0 ? clipped / count : null,
    inRange,
    nearThresholdFraction: nt,
    concentration: nt === null ? null : nt / (2 * delta),
    meanDistance: inRange > 0 ? sumD / inRange : null,
    histogram: Array.from(hist),
    perChannel: { axis: statAxis, nearThresholdFraction: ntC, concentration: cC },
  };
}

/** Near-threshold count k of a layer (exact: NT × in-range is a whole number). */
export const nearCount = (l: LayerStats): number => Math.round((l.nearThresholdFraction ?? 0) * (l.inRange ?? 0));

/** Integer states of a layer without the stats (stored integers, else clamp(roundHalfEven(W/s + z))). */
export function integerStates(layer: QuantizedLayer, out?: Int32Array): Int32Array {
  const w = layer.weight;
  const count = w.shape.reduce((a, b) => a * b, 1);
  const q = out ?? new Int32Array(count);
  if (w.integer) {
    q.set(w.integer);
    return q;
  }
  const lat = w.latent;
  if (!lat) throw new QatLensError(`layer "${layer.name}": neither latent nor integer weights`);
  const qz = layer.weightQuantizer;
  const axis = checkQuantizer(qz, w.shape, `layer "${layer.name}"`);
  const { outer, channels, inner } = splitAxis(w.shape, axis ?? 0);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = axis !== null ? qz.scale[c] : qz.scale[0];
      const z = axis !== null ? qz.zeroPoint[c] : qz.zeroPoint[0];
      for (const end = i + inner; i < end; i++) {
        const r = roundHalfEven(lat[i] / s + z);
        q[i] = r < qz.qmin ? qz.qmin : r > qz.qmax ? qz.qmax : r;
      }
    }
  }
  return q;
}
