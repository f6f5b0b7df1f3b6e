// Plain-text rendering of the oscillation report for the terminal: a summary, one row per layer,
// the sequence and model-vs-ema summaries, and the notes.
import { basename } from 'node:path';
import type { AnalysisReport, LayerReport } from '../analysis/types';

const na = 'N/A';
const pct = (x: number | null, d = 1) => (x === null || Number.isNaN(x) ? na : `${(100 * x).toFixed(d)}%`);
const fix = (x: number | null, d: number) => (x === null || Number.isNaN(x) ? na : x.toFixed(d));
// An adjusted p-value that underflows to 0 is shown as an upper bound from its logarithm.
const pv = (l: LayerReport) =>
  l.pValueAdjusted === null ? na : l.pValueAdjusted >= 1e-3 ? l.pValueAdjusted.toPrecision(2) : l.pValueAdjusted > 0 ? l.pValueAdjusted.toExponential(0) : `1e${Math.round(l.log10PValueAdjusted!)}`;
const scaleText = (s: LayerReport['scale']) => (typeof s === 'number' ? s.toPrecision(3) : `${s.min.toPrecision(2)}..${s.max.toPrecision(2)}`);

function table(header: string[], rows: string[][], right: boolean[]): string[] {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)];
}

/** Up to 4 transitions one by one, else their mean and maximum. */
const flipsText = (f: number[]) => (f.length <= 4 ? f.map((x) => pct(x, 2)).join(' ') : `mean ${pct(f.reduce((a, b) => a + b, 0) / f.length, 2)}, max ${pct(Math.max(...f), 2)}`);

/** Truncates long layer names from the left, keeping the distinctive tail. */
const short = (s: string, n = 36) => (s.length <= n ? s : `…${s.slice(s.length - n + 1)}`);

export function formatReportTable(r: AnalysisReport): string[] {
  const s = r.summary;
  const out: string[] = [];
  out.push(`${s.model}  (${s.format}; ${s.files.map((f) => basename(f)).join(', ')})`);
  out.push(
    `${s.layerCount} quantized layers, ${s.bits.length ? `${s.bits.join('/')}-bit` : 'no bits'}, δ = ${r.settings.delta}: ` +
      `${s.flaggedCount} flagged (C ≥ ${r.settings.minConcentration} and binomial p ≤ ${r.settings.maxPValue} after Bonferroni)`,
  );
  out.push('');
  const rows = r.layers.map((l) => [
    l.flagged ? '!' : '',
    short(l.name),
    String(l.bits),
    l.granularity === 'per-channel' ? 'ch' : 'tensor',
    String(l.count),
    scaleText(l.scale),
    pct(l.clippedFraction),
    pct(l.nearThresholdFraction),
    fix(l.concentration, 2),
    fix(l.meanDistance, 3),
    fix(l.z, 1),
    pv(l),
  ]);
  out.push(
    ...table(['', 'layer', 'bits', 'gran', 'weights', 'scale', 'clipped', 'NT', 'C', 'mean d', 'z', 'p adj'], rows, [false, false, true, false, true, true, true, true, true, true, true, true]),
  );
  const flagged = r.layers.filter((l) => l.flagged);
  if (flagged.length) {
    out.push('', 'Flagged:');
    for (const l of flagged) out.push(`  ${l.name}: ${l.reason}`);
  }
  if (r.sequence) {
    const q = r.sequence;
    out.push('', `Across ${q.order.length} checkpoints (ordered by ${q.orderedBy}: ${q.order.map((o) => (o.epoch !== null ? `epoch ${o.epoch}` : basename(o.file))).join(' → ')}):`);
    const meanFlips = (l: (typeof q.layers)[number]) => l.flipFractions.reduce((x, y) => x + y, 0) / Math.max(1, l.flipFractions.length);
    const top = [...q.layers].sort((a, b) => b.reversalShare - a.reversalShare || meanFlips(b) - meanFlips(a)).slice(0, 15);
    out.push(
      ...table(
        ['layer', 'flips per transition', 'reversals/weight/step', 'reversal share', 'scale CV', 'max scale change'],
        top.map((l) => [short(l.name), flipsText(l.flipFractions), fix(l.meanReversals, 4), pct(l.reversalShare, 2), fix(l.scaleCV, 4), pct(Math.max(...l.scaleRelativeChangeMax), 2)]),
        [false, false, true, true, true, true],
      ).map((x) => `  ${x}`),
    );
    if (q.layers.length > top.length) out.push(`  (${top.length} of ${q.layers.length} layers with the most reversals, then flips; all in --json)`);
    if (q.activations.length) {
      const a = [...q.activations].sort((x, y) => y.scaleCV - x.scaleCV).slice(0, 5);
      out.push(`  activation scales, largest CV: ${a.map((x) => `${x.name} ${fix(x.scaleCV, 4)}`).join(', ')}`);
    }
    const LIST = 8;
    for (const p of q.partial.slice(0, LIST)) out.push(`  ${p.kind} ${p.name} only in: ${p.presentIn.map((f) => basename(f)).join(', ')}`);
    if (q.partial.length > LIST) out.push(`  … and ${q.partial.length - LIST} more layers or activations in some checkpoints only (all in --json)`);
    for (const n of q.shapeMismatch.slice(0, LIST)) out.push(`  layer ${n} changes shape between checkpoints: not compared`);
    if (q.shapeMismatch.length > LIST) out.push(`  … and ${q.shapeMismatch.length - LIST} more layers that change shape`);
  }
  const mve = r.modelVsEma ?? [];
  if (mve.length) {
    out.push('', 'model vs ema (share of integer states that differ):');
    for (const m of mve) {
      const worst = [...m.layers].sort((a, b) => b.flipFraction - a.flipFraction).slice(0, 3);
      out.push(`  ${basename(m.file)}: ${pct(m.flipFraction, 2)}` + (worst.length ? ` (most: ${worst.map((l) => `${l.name} ${pct(l.flipFraction, 2)}`).join(', ')})` : ''));
    }
  }
  if (s.notes.length) out.push('', 'Notes:', ...s.notes.map((n) => `  - ${n}`));
  return out;
}
