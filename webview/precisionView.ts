// The precision plan view: the plan (layer names ready to paste, with a copy button), findings and
// limits, the gain chart and the plan curve, and the per-layer table (best gain first).
import type { PrecisionReport } from '../src/core/precision/types';
import { h } from './dom';
import { baseName } from './format';

const pp = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : (x * 100).toFixed(2));
const dd = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(2)}`);

/** Rows in the table's order: scored layers by gain (largest first), then the rest in model order. */
export function precisionRows(r: PrecisionReport): PrecisionReport['layers'] {
  const scored = r.layers.filter((l) => l.gain !== undefined).sort((a, b) => b.gain! - a.gain!);
  return [...scored, ...r.layers.filter((l) => l.gain === undefined)];
}

/** The plan as the text a user pastes into a training config. */
export const planText = (r: PrecisionReport): string => JSON.stringify(r.plan.layers);

export function precisionView(r: PrecisionReport, reveal: (file: string) => void, copy: (text: string) => void): HTMLElement {
  const p = r.plan;
  const kv = (k: string, v: string, cls = ''): HTMLElement => h('div', { class: `kv ${cls}` }, h('span', { class: 'k' }, k), h('span', { class: 'v' }, v));
  return h(
    'section',
    { class: 'precision' },
    h('h1', {}, `Precision plan: layers to keep at ${r.bits} bits`, h('span', { class: 'muted' }, ` — ${baseName(r.model)}`)),
    h(
      'div',
      { class: 'kvs' },
      kv('QAT mAP@.5:.95', pp(r.baseline.map)),
      r.float ? kv('float', pp(r.float.map)) : null,
      kv('plan mAP@.5:.95', pp(p.map), p.map > r.baseline.map ? 'good' : ''),
      p.gapShare !== undefined ? kv('share of the float → QAT gap', `${(p.gapShare * 100).toFixed(1)}%`) : null,
      kv('layers in the plan', String(p.layers.length)),
      kv('bytes added', `+${p.bytesAdded}`),
    ),
    p.layers.length
      ? h(
          'div',
          { class: 'plan' },
          h('p', {}, `The plan (${r.naming}), ready to paste into a training config:`),
          h('pre', { id: 'precision-plan-text' }, planText(r)),
          h('button', { type: 'button', class: 'secondary', onclick: () => copy(planText(r)) }, 'Copy'),
          p.out
            ? h(
                'span',
                {},
                ' What-if model: ',
                h(
                  'a',
                  {
                    href: '#',
                    title: p.out,
                    onclick: (ev: Event) => {
                      ev.preventDefault();
                      reveal(p.out!);
                    },
                  },
                  baseName(p.out),
                ),
              )
            : null,
        )
      : h('p', {}, 'The plan is empty: no layer raised mAP.'),
    h('ul', { class: 'notes info' }, ...r.findings.map((f) => h('li', {}, f))),
    h('ul', { class: 'notes' }, ...r.limits.map((f) => h('li', {}, f))),
    h('section', { class: 'charts' }, h('div', { class: 'chart wide', id: 'chart-precision-gain' }), h('div', { class: 'chart', id: 'chart-precision-plan' })),
    h('p', { class: 'muted' }, `First pass: ${r.firstPass.method}. ${r.firstPass.scored} of ${r.firstPass.ranked} candidate layers scored in full.`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'precision-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Layer', 'Width now → what-if', 'Bytes', 'Added', 'MMACs', 'Output change', 'mAP@.5:.95', 'Δ', 'Δ mAP@.5'].map((c, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : '' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          ...precisionRows(r).map((l) =>
            h(
              'tr',
              { 'data-layer': l.name, class: l.planned ? 'planned' : '' },
              h('th', { scope: 'row' }, l.planned ? `✓ ${l.name}` : l.name),
              h('td', {}, `W${l.bits}A${l.actBits ?? '–'} → W${l.toBits}A${l.actToBits ?? '–'}`),
              h('td', { class: 'num' }, String(l.bytes)),
              h('td', { class: 'num' }, `+${l.bytesAdded}`),
              h('td', { class: 'num' }, (l.macs / 1e6).toFixed(2)),
              h('td', { class: 'num' }, l.change !== undefined ? l.change.toExponential(2) : '—'),
              h('td', { class: 'num strong' }, pp(l.map)),
              h('td', { class: `num ${l.gain === undefined ? 'muted' : l.gain > 0 ? 'good' : 'bad'}` }, dd(l.gain)),
              h('td', { class: 'num' }, dd(l.gain50)),
            ),
          ),
        ),
      ),
    ),
    h('ul', { class: 'notes' }, ...r.notes.map((n) => h('li', {}, n))),
  );
}
