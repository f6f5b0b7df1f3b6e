// The comparison as a plain-text table for the terminal.
import { at50, ciText, diffText, shareCiText } from './diffText';
import type { CompareEntry, CompareReport } from './types';

const pct = (x: number) => (x * 100).toFixed(1);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;

/** The row a row is measured against: soft/latent rows against the hard variant (same graph), the rest against QAT. */
export function referenceOf(e: CompareEntry, entries: CompareEntry[]): CompareEntry | undefined {
  const qat = entries.find((x) => x.role === 'qat'),
    hard = entries.find((x) => x.role === 'hard');
  const ref = (e.role === 'soft' || e.role === 'latent') && hard ? hard : (qat ?? hard);
  return ref === e ? undefined : ref;
}

export function compareTable(entries: CompareEntry[]): string[] {
  const qat = entries.find((e) => e.role === 'qat') ?? entries.find((e) => e.role === 'hard');
  const rows = entries.map((e) => [
    e.label,
    pct(e.map),
    pct(e.map50),
    referenceOf(e, entries) ? signed(e.map - referenceOf(e, entries)!.map) : '',
    e.vsRef ? ciText(e.vsRef.mapCi) : '',
    e.softWeights !== undefined && e.probedWeights ? `${e.softWeights} (${((100 * e.softWeights) / e.probedWeights).toFixed(1)}%)` : '',
  ]);
  const head = ['model', 'mAP@.5:.95', 'mAP@.5', qat ? 'Δ mAP@.5:.95' : '', entries.some((e) => e.vsRef) ? '95% CI of Δ' : '', 'latent-valued weights'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])))
      .join('  ')
      .trimEnd();
  return [
    line(head),
    w
      .map((n) => '-'.repeat(n))
      .join('  ')
      .trimEnd(),
    ...rows.map(line),
  ];
}

/** The whole terminal summary: table, gap recovered, notes, files written. */
export function compareSummary(r: CompareReport): string[] {
  const out = [`${r.comparison.title} — ${r.comparison.data ?? ''}${r.images ? ` (${r.images} images` : ''}${r.engine ? `, ${r.engine} engine)` : r.images ? ')' : ''}`];
  out.push('mAP in percent (COCO mAP@[.5:.95] and mAP@.5)', '');
  out.push(...compareTable(r.comparison.entries));
  if (r.comparison.entries.some((e) => e.role === 'hard')) out.push('Δ: soft-round and latent rows against the hard δ=0 row (same graph); the other rows against QAT');
  out.push(...intervalLines(r));
  if (r.gapRecovered) out.push('', gapLine(r.gapRecovered));
  for (const n of r.comparison.notes ?? []) out.push(`note: ${n}`);
  if (r.jsonOut) out.push(`JSON: ${r.jsonOut}`);
  if (r.htmlOut) out.push(`HTML: ${r.htmlOut}`);
  return out;
}

/** One line per difference with its interval, and how the intervals were drawn. */
export function intervalLines(r: Pick<CompareReport, 'comparison'>): string[] {
  const rows = r.comparison.entries.filter((e) => e.vsRef);
  const b = r.comparison.bootstrap;
  if (!rows.length || !b) return [];
  return [
    '',
    `Differences in points with 95% paired bootstrap intervals (${b.resamples} resamples of the ${b.images} images, seed ${b.seed}):`,
    ...rows.map((e) => `  ${e.label} vs ${e.vsRef!.against}: mAP@.5:.95 ${diffText(e.vsRef!)}; mAP@.5 ${diffText(at50(e.vsRef!))}`),
  ];
}

/** QC's share of the float -> QAT gap, with its interval where computed. */
export function gapLine(g: NonNullable<CompareReport['gapRecovered']>): string {
  const ci = (x?: [number, number]) => (x ? ` (95% CI ${shareCiText(x)})` : '');
  return `QC recovers ${(g.map * 100).toFixed(1)}%${ci(g.mapCi)} of the float → QAT gap in mAP@.5:.95, ${(g.map50 * 100).toFixed(1)}%${ci(g.map50Ci)} in mAP@.5`;
}
