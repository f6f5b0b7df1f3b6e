// The 95% paired bootstrap interval of every difference a comparison shows: each row against its
// reference (QAT; soft/latent rows against the hard δ = 0 row), and QC's share of the float -> QAT
// gap. All rows are resampled on the same images (paired). The per-image matches are dropped
// afterwards: results travel to the host and into JSON without them.
import {
  bootstrapMaps,
  containsZero,
  DEFAULT_RESAMPLES,
  DEFAULT_SEED,
  diffs,
  gapShares,
  interval95,
  resampleCounts,
  type BootstrapInfo,
  type BootstrapOptions,
  type ResampledMaps,
} from '../eval/bootstrap';
import { referenceOf } from './table';
import type { CompareEntry, GapRecovered } from './types';

export type { BootstrapOptions };

/**
 * Sets `vsRef` on every entry with a reference, fills `gap`'s intervals, and removes `perImage`
 * from all entries. Returns how the intervals were drawn, or undefined where fewer than two rows
 * kept per-image matches or resamples is 0.
 */
export function attachIntervals(entries: CompareEntry[], gap: GapRecovered | undefined, opts: BootstrapOptions = {}): BootstrapInfo | undefined {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const seed = opts.seed ?? DEFAULT_SEED;
  try {
    const scored = entries.filter((e) => e.perImage);
    if (resamples <= 0 || scored.length < 2) return undefined;
    const t = performance.now();
    const images = scored[0].perImage!.images;
    const maps = bootstrapMaps(
      scored.map((e) => e.perImage!),
      resampleCounts(images, resamples, seed),
    );
    const of = new Map<CompareEntry, ResampledMaps>(scored.map((e, i) => [e, maps[i]]));
    for (const e of entries) {
      const ref = referenceOf(e, entries);
      const a = ref && of.get(ref),
        b = of.get(e);
      if (!ref || !a || !b) continue;
      const mapCi = interval95(diffs(b.map, a.map));
      e.vsRef = { against: ref.label, map: e.map - ref.map, map50: e.map50 - ref.map50, mapCi, map50Ci: interval95(diffs(b.map50, a.map50)), noise: containsZero(mapCi) };
    }
    const f = of.get(entries.find((e) => e.role === 'float')!),
      q = of.get(entries.find((e) => e.role === 'qat')!),
      c = of.get(entries.find((e) => e.role === 'qc')!);
    if (gap && f && q && c) {
      gap.mapCi = interval95(gapShares(c.map, q.map, f.map));
      gap.map50Ci = interval95(gapShares(c.map50, q.map50, f.map50));
    }
    return { resamples, seed, images, ms: Math.round(performance.now() - t) };
  } finally {
    for (const e of entries) delete e.perImage;
  }
}
