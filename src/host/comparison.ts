// The panel's side-by-side mAP view from the engine's compare report (its entries already are the
// panel's MapEntry), plus the files a command wrote. Pure (no vscode).
import type { CompareReport } from '../core/compare/types';
import type { MapComparison } from '../shared/protocol';

export function toComparison(r: CompareReport, title: string, outputs: { label: string; file: string }[] = []): MapComparison {
  const notes = [...(r.comparison.notes ?? [])];
  if (r.gapRecovered) notes.unshift(`QC recovered ${(r.gapRecovered.map * 100).toFixed(1)}% of the float → QAT gap in mAP@.5:.95 (${(r.gapRecovered.map50 * 100).toFixed(1)}% at .5).`);
  return { ...r.comparison, title, entries: r.comparison.entries, outputs: [...(r.comparison.outputs ?? []), ...outputs], notes };
}
