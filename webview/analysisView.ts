// The oscillation view: summary, per-layer table, and the four charts.
import type { AnalysisReport } from '../src/core/analysis/types';
import { h } from './dom';
import { baseName, fixed, pct, sig } from './format';
import { type LayerRow, type PanelState, type SortKey, visibleRows } from './state';

export interface AnalysisActions {
  select(layer: string): void;
  sort(key: SortKey): void;
  filter(text: string, flaggedOnly: boolean): void;
  exportReport(format: 'html' | 'json'): void;
}

export function summaryView(report: AnalysisReport, engine: string, actions: AnalysisActions): HTMLElement {
  const s = report.summary;
  const item = (label: string, value: string, title?: string): HTMLElement => h('div', { class: 'kv', title }, h('span', { class: 'k' }, label), h('span', { class: 'v' }, value));
  const seq = report.sequence;
  return h(
    'section',
    { class: 'summary', id: 'summary' },
    h(
      'div',
      { class: 'summary-head' },
      h('h1', {}, `Oscillation analysis — ${s.model}`),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => actions.exportReport('html'), title: 'Save the same HTML report as qat-lens analyze --html' }, 'Export HTML'),
        h('button', { type: 'button', class: 'secondary', onclick: () => actions.exportReport('json'), title: 'Save the same JSON as qat-lens analyze --json' }, 'Export JSON'),
      ),
    ),
    h(
      'div',
      { class: 'kvs' },
      item('Model', s.model),
      item('Format', s.format),
      item('Bits', s.bits.join(', ') || '—'),
      item('Layers', String(s.layerCount), s.integerOnlyCount ? `${s.integerOnlyCount} stored as integers only (no fractional positions)` : undefined),
      h('div', { class: `kv ${s.flaggedCount ? 'bad' : 'good'}`, id: 'flagged-count' }, h('span', { class: 'k' }, 'Flagged'), h('span', { class: 'v' }, `${s.flaggedCount} of ${s.layerCount}`)),
      item('δ', String(report.settings.delta), 'near-threshold distance: |f − 0.5| < δ'),
      item('Checkpoints', seq ? `${seq.order.length} (by ${seq.orderedBy})` : baseName(s.files[0] ?? ''), s.files.join('\n')),
      item('Engine', engine),
    ),
    s.notes.length ? h('ul', { class: 'notes' }, ...s.notes.map((n) => h('li', {}, n))) : null,
    h(
      'p',
      { class: 'legend' },
      'NT: share of weights within δ of a rounding threshold (even spread = ',
      String(2 * report.settings.delta),
      '). ',
      'C: NT / 2δ, 1 = no pile-up. Flags need C ≥ ',
      String(report.settings.minConcentration),
      ' and a significant excess (adjusted p ≤ ',
      String(report.settings.maxPValue),
      ').',
    ),
  );
}

const COLUMNS: { key: SortKey; label: string; title: string; num?: boolean }[] = [
  { key: 'index', label: '#', title: 'model order', num: true },
  { key: 'name', label: 'Layer', title: 'weight tensor' },
  { key: 'flagged', label: 'Flag', title: 'flagged as oscillating, and why' },
  { key: 'nt', label: 'NT(δ)', title: 'share of in-range weights within δ of a threshold', num: true },
  { key: 'concentration', label: 'C(δ)', title: 'NT / 2δ: 1 = even spread, above 1 = pile-up at thresholds', num: true },
  { key: 'clipped', label: 'Clipped', title: 'share of weights outside the integer range', num: true },
  { key: 'scale', label: 'Scale', title: 'quantizer scale (per-channel: mean over channels)', num: true },
  { key: 'flips', label: 'Flips', title: 'mean share of integer states that change between consecutive checkpoints', num: true },
  { key: 'reversals', label: 'Reversals', title: 'reversals per weight per transition (share of weights with ≥ 1)', num: true },
  { key: 'ema', label: 'Model↔EMA', title: 'share of integer states that differ between model and EMA weights', num: true },
];

export function tableView(state: PanelState, actions: AnalysisActions): HTMLElement {
  const rows = visibleRows(state);
  const all = state.analysis?.report.layers.length ?? 0;
  const head = h(
    'tr',
    {},
    ...COLUMNS.map((c) => {
      const active = state.sort.key === c.key;
      return h(
        'th',
        {
          scope: 'col',
          class: c.num ? 'num' : undefined,
          title: `${c.title} — click to sort`,
          'aria-sort': active ? (state.sort.desc ? 'descending' : 'ascending') : 'none',
          'data-key': c.key,
        },
        h('button', { type: 'button', class: 'th', onclick: () => actions.sort(c.key) }, c.label, active ? (state.sort.desc ? ' ▼' : ' ▲') : ''),
      );
    }),
  );
  const body = h('tbody', {}, ...rows.map((r) => rowView(r, r.name === state.selected, actions)));
  const search = h('input', { type: 'search', id: 'filter-text', placeholder: 'Filter layers by name, op or reason', value: state.filter.text }) as HTMLInputElement;
  const only = h('input', { type: 'checkbox', id: 'filter-flagged', checked: state.filter.flaggedOnly }) as HTMLInputElement;
  const apply = (): void => actions.filter(search.value, only.checked);
  search.addEventListener('input', apply);
  only.addEventListener('change', apply);
  return h(
    'section',
    { class: 'layers' },
    h('div', { class: 'toolbar' }, search, h('label', {}, only, ' flagged only'), h('span', { class: 'count' }, `${rows.length} of ${all} layers`)),
    h('div', { class: 'table-wrap' }, h('table', { id: 'layer-table' }, h('thead', {}, head), body)),
  );
}

function rowView(r: LayerRow, selected: boolean, actions: AnalysisActions): HTMLElement {
  const tr = h(
    'tr',
    { class: `${r.flagged ? 'flagged' : ''} ${selected ? 'selected' : ''}`.trim(), 'data-layer': r.name, tabindex: 0, 'aria-selected': selected },
    h('td', { class: 'num' }, String(r.index + 1)),
    h('td', { class: 'name', title: `${r.op}, ${r.bits}-bit` }, r.name),
    h('td', { class: 'flag', title: r.reason }, h('span', { class: r.flagged ? 'badge bad' : 'badge' }, r.flagged ? 'FLAGGED' : 'ok'), ' ', h('span', { class: 'reason' }, r.reason)),
    h('td', { class: 'num' }, pct(r.nt)),
    h('td', { class: 'num strong' }, fixed(r.concentration)),
    h('td', { class: 'num' }, pct(r.clipped, 2)),
    h(
      'td',
      { class: 'num', title: r.perChannelScale ? `per-channel, ${r.perChannelScale} channels: mean` : 'per-tensor' },
      sig(r.scale),
      r.perChannelScale ? h('span', { class: 'muted' }, ' pc') : '',
    ),
    h('td', { class: 'num' }, pct(r.flips, 2)),
    h('td', { class: 'num' }, r.reversals === null ? '—' : `${fixed(r.reversals, 3)} (${pct(r.reversalShare, 0)})`),
    h('td', { class: 'num' }, pct(r.ema, 2)),
  );
  tr.addEventListener('click', () => actions.select(r.name));
  tr.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') actions.select(r.name);
  });
  return tr;
}
