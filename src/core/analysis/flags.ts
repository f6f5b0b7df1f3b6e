// The flag rule. A layer is flagged as oscillating when both
//   1. its threshold concentration C(δ) >= minConcentration (a pile-up big enough to matter), and
//   2. the pile-up is not chance: one-sided binomial test of the near-threshold count k out of
//      n in-range weights against p0 = 2δ (the even spread), Bonferroni-corrected over the
//      layers tested, gives p <= maxPValue.
// Condition 2 keeps tiny layers (a few hundred weights) from being flagged by luck.
import { logBinomialUpperTail } from './binomial';
import { nearCount } from './layerStats';
import type { AnalysisSettings, LayerReport } from './types';

export const DEFAULT_DELTA = 0.05;
export const DEFAULT_MIN_CONCENTRATION = 1.5;
export const DEFAULT_MAX_P_VALUE = 0.001;

export type FlagSettings = Pick<AnalysisSettings, 'delta' | 'minConcentration' | 'maxPValue'>;

const pct = (x: number): string => {
  const p = x * 100;
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toPrecision(2)}%`;
};
const times = (x: number): string => `${x >= 9.95 ? x.toFixed(0) : x.toFixed(1)}x`;
const zText = (z: number): string => (Math.abs(z) >= 9.95 ? z.toFixed(0) : z.toFixed(1));
export const pText = (p: number, log10p: number): string => (p >= 1e-3 ? p.toPrecision(2) : p > 0 ? p.toExponential(1) : `1e${Math.floor(log10p)}`);

/** Fills flagged, reason, z, pValue, log10PValue and pValueAdjusted of every layer (in place). */
export function flagLayers(layers: LayerReport[], s: FlagSettings): LayerReport[] {
  const p0 = 2 * s.delta;
  const tested = layers.filter((l) => l.hasLatent && (l.inRange ?? 0) > 0).length;
  const bonf = Math.max(tested, 1);
  for (const l of layers) {
    l.flagged = false;
    l.z = l.pValue = l.log10PValue = l.pValueAdjusted = l.log10PValueAdjusted = null;
    if (!l.hasLatent) {
      l.reason = 'integer weights only (no latent weights stored): fractional positions are N/A';
      continue;
    }
    const n = l.inRange ?? 0;
    if (n === 0) {
      l.reason = 'every weight is clipped: no in-range weights to test';
      continue;
    }
    const k = nearCount(l);
    const nt = l.nearThresholdFraction!;
    const conc = l.concentration!;
    const head = `${pct(nt)} of weights within ${s.delta} of a threshold (${times(conc)} the even spread`;
    if (p0 >= 1) {
      l.reason = `${head}): δ = ${s.delta} covers the whole step, nothing to test`;
      continue;
    }
    const z = (k - n * p0) / Math.sqrt(n * p0 * (1 - p0));
    const logP = logBinomialUpperTail(k, n, p0);
    const log10P = logP / Math.LN10;
    const log10Adj = Math.min(0, log10P + Math.log10(bonf));
    l.z = z;
    l.pValue = Math.exp(logP);
    l.log10PValue = log10P;
    l.pValueAdjusted = Math.min(1, l.pValue * bonf);
    l.log10PValueAdjusted = log10Adj;
    const significant = log10Adj <= Math.log10(s.maxPValue);
    const text = `${head}, z = ${zText(z)})`;
    if (conc >= s.minConcentration && significant) {
      l.flagged = true;
      l.reason = text;
    } else if (!significant) {
      l.reason = `${text}: not significant (p = ${pText(l.pValueAdjusted, log10Adj)} after Bonferroni over ${bonf} layers, ${n} weights in range)`;
    } else {
      l.reason = `${text}: below the ${s.minConcentration}x flag level`;
    }
  }
  return layers;
}
