// The panel's state (saved with setState, so a window reload restores it) and the pure logic on it:
// the per-layer table rows, sorting and filtering. No DOM here, so it is unit-tested in Node.
import type { AnalysisReport, LayerReport } from '../src/core/analysis/types';
import type { PrecisionReport } from '../src/core/precision/types';
import type { HostToPanel, MapComparison, PanelJobState } from '../src/shared/protocol';

export type SortKey = 'index' | 'name' | 'flagged' | 'nt' | 'concentration' | 'clipped' | 'scale' | 'flips' | 'reversals' | 'ema';

export interface PanelState {
  analysis?: { report: AnalysisReport; engine: string };
  comparison?: MapComparison;
  precision?: PrecisionReport;
  job?: PanelJobState;
  selected?: string;
  sort: { key: SortKey; desc: boolean };
  filter: { text: string; flaggedOnly: boolean };
  tab: 'analysis' | 'map' | 'precision';
  /** Shown in place of a result (a checkpoint editor's file that could not be analyzed yet or at all). */
  notice?: Extract<HostToPanel, { type: 'notice' }>;
}

export const initialState = (): PanelState => ({ sort: { key: 'index', desc: false }, filter: { text: '', flaggedOnly: false }, tab: 'analysis' });

/** One table row: every number the table shows for a layer (null = not defined for it). */
export interface LayerRow {
  index: number;
  name: string;
  op: string;
  bits: number;
  flagged: boolean;
  reason: string;
  nt: number | null;
  concentration: number | null;
  clipped: number | null;
  /** Scalar scale, or the mean of a per-channel scale. */
  scale: number;
  perChannelScale: number | null;
  /** Mean flip fraction over the sequence's transitions. */
  flips: number | null;
  reversals: number | null;
  reversalShare: number | null;
  ema: number | null;
}

export const scaleOf = (l: LayerReport): number => (typeof l.scale === 'number' ? l.scale : l.scale.mean);

export function layerRows(report: AnalysisReport): LayerRow[] {
  const seq = new Map((report.sequence?.layers ?? []).map((s) => [s.name, s]));
  return report.layers.map((l, index) => {
    const s = seq.get(l.name);
    const flips = s && s.flipFractions.length ? s.flipFractions.reduce((a, b) => a + b, 0) / s.flipFractions.length : null;
    return {
      index,
      name: l.name,
      op: l.op,
      bits: l.bits,
      flagged: l.flagged,
      reason: l.reason,
      nt: l.nearThresholdFraction,
      concentration: l.concentration,
      clipped: l.clippedFraction,
      scale: scaleOf(l),
      perChannelScale: typeof l.scale === 'number' ? null : l.scale.channels,
      flips,
      reversals: s ? s.meanReversals : null,
      reversalShare: s ? s.reversalShare : null,
      ema: l.modelVsEmaFlipFraction ?? null,
    };
  });
}

const sortValue = (r: LayerRow, key: SortKey): number | string | null => {
  switch (key) {
    case 'index':
      return r.index;
    case 'name':
      return r.name;
    case 'flagged':
      return r.flagged ? 1 : 0;
    case 'nt':
      return r.nt;
    case 'concentration':
      return r.concentration;
    case 'clipped':
      return r.clipped;
    case 'scale':
      return r.scale;
    case 'flips':
      return r.flips;
    case 'reversals':
      return r.reversals;
    case 'ema':
      return r.ema;
  }
};

/** Sorted copy; rows without a value (null) always go last, whatever the direction. */
export function sortRows(rows: LayerRow[], key: SortKey, desc: boolean): LayerRow[] {
  return [...rows].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va === null || vb === null) return va === vb ? a.index - b.index : va === null ? 1 : -1;
    const c = typeof va === 'string' ? va.localeCompare(vb as string) : va - (vb as number);
    return (desc ? -c : c) || a.index - b.index;
  });
}

/** Filter by a case-insensitive substring of the name or reason, and optionally flagged only. */
export function filterRows(rows: LayerRow[], text: string, flaggedOnly: boolean): LayerRow[] {
  const t = text.trim().toLowerCase();
  return rows.filter((r) => (!flaggedOnly || r.flagged) && (!t || r.name.toLowerCase().includes(t) || r.reason.toLowerCase().includes(t) || r.op.toLowerCase().includes(t)));
}

export function visibleRows(s: PanelState): LayerRow[] {
  if (!s.analysis) return [];
  return sortRows(filterRows(layerRows(s.analysis.report), s.filter.text, s.filter.flaggedOnly), s.sort.key, s.sort.desc);
}

/** A click on the sorted column's header flips it; on another column sorts it, largest first for numbers. */
export function nextSort(cur: PanelState['sort'], key: SortKey): PanelState['sort'] {
  if (cur.key === key) return { key, desc: !cur.desc };
  return { key, desc: key !== 'index' && key !== 'name' };
}

/** The layer to show when nothing was chosen: the most concentrated flagged layer, else the first. */
export function defaultSelection(report: AnalysisReport): string | undefined {
  const flagged = report.layers.filter((l) => l.flagged && l.concentration !== null);
  flagged.sort((a, b) => (b.concentration ?? 0) - (a.concentration ?? 0));
  return (flagged[0] ?? report.layers.find((l) => l.histogram) ?? report.layers[0])?.name;
}
