// The comparison as a plain-text table for the terminal.
import type { CompareEntry, CompareReport } from './types';

const pct = (x: number) => (x * 100).toFixed(1);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;

/** The row a row is measured against: soft/latent rows against the hard variant (same graph), the rest against QAT. */
export function referenceOf(e: CompareEntry, entries: CompareEntry[]): CompareEntry | undefined {
  const qat = entries.find((x) => x.role === 'qat'), hard = entries.find((x) => x.role === 'hard');
  const ref = (e.role === 'soft' || e.role === 'latent') && hard ? hard : qat ?? hard;
  return ref === e ? undefined : ref;
}

export function compareTable(entries: CompareEntry[]): string[] {
  const qat = entries.find((e) => e.role === 'qat') ?? entries.find((e) => e.role === 'hard');
  const rows = entries.map((e) => [
    e.label,
    pct(e.map),
    pct(e.map50),
    referenceOf(e, entries) ? signed(e.map - referenceOf(e, entries)!.map) : '',
    e.softWeights !== undefined && e.probedWeights ? `${e.softWeights} (${((100 * e.softWeights) / e.probedWeights).toFixed(1)}%)` : '',
  ]);
  const head = ['model', 'mAP@.5:.95', 'mAP@.5', qat ? 'Δ mAP@.5:.95' : '', 'latent-valued weights'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  ').trimEnd(), ...rows.map(line)];
}

/** The whole terminal summary: table, gap recovered, notes, files written. */
export function compareSummary(r: CompareReport): string[] {
  const out = [`${r.comparison.title} — ${r.comparison.data ?? ''}${r.images ? ` (${r.images} images` : ''}${r.engine ? `, ${r.engine} engine)` : r.images ? ')' : ''}`];
  out.push('mAP in percent (COCO mAP@[.5:.95] and mAP@.5)', '');
  out.push(...compareTable(r.comparison.entries));
  if (r.comparison.entries.some((e) => e.role === 'hard')) out.push('Δ: soft-round and latent rows against the hard δ=0 row (same graph); the other rows against QAT');
  if (r.gapRecovered) out.push('', `QC recovers ${(r.gapRecovered.map * 100).toFixed(1)}% of the float → QAT gap in mAP@.5:.95 (${(r.gapRecovered.map50 * 100).toFixed(1)}% in mAP@.5)`);
  for (const n of r.comparison.notes ?? []) out.push(`note: ${n}`);
  if (r.jsonOut) out.push(`JSON: ${r.jsonOut}`);
  if (r.htmlOut) out.push(`HTML: ${r.htmlOut}`);
  return out;
}
