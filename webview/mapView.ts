// The side-by-side mAP view: table (with the change against the QAT model), then bars and PR curves.
import type { MapComparison } from '../src/shared/protocol';
import { h } from './dom';
import { baseName } from './format';
import { ciText, NOISE } from '../src/core/compare/diffText';

const pp = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : (x * 100).toFixed(2));

/** The reference row for "Δ": the QAT model where present, else the first row. */
export function referenceIndex(c: MapComparison): number {
  const i = c.entries.findIndex((e) => /^QAT\b/.test(e.label));
  return i >= 0 ? i : 0;
}

export function deltaText(x: number, ref: number): string {
  const d = (x - ref) * 100;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}`;
}

export function mapTableView(c: MapComparison, reveal: (file: string) => void): HTMLElement {
  const ref = c.entries[referenceIndex(c)];
  const cats = [...new Set(c.entries.flatMap((e) => Object.keys(e.perCategory ?? {})))];
  const withCi = c.entries.some((e) => e.vsRef);
  const b = c.bootstrap;
  return h(
    'section',
    { class: 'map' },
    h('h1', {}, c.title, c.data ? h('span', { class: 'muted' }, ` — ${baseName(c.data)}`) : ''),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'map-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Model'),
            h('th', { scope: 'col', class: 'num', title: 'COCO mAP averaged over IoU .50:.95, in %' }, 'mAP@.5:.95'),
            h('th', { scope: 'col', class: 'num', title: `change against ${ref?.label ?? 'the first row'}, in points` }, `Δ vs ${ref?.label ?? '—'}`),
            ...(withCi
              ? [
                  h(
                    'th',
                    { scope: 'col', class: 'num', title: '95% paired bootstrap interval over images of the change in mAP@.5:.95, in points, against the row named in the tooltip' },
                    '95% CI of Δ',
                  ),
                ]
              : []),
            h('th', { scope: 'col', class: 'num' }, 'mAP@.5'),
            h('th', { scope: 'col', class: 'num' }, 'mAP@.75'),
            ...cats.map((k) => h('th', { scope: 'col', class: 'num', title: `AP@.5:.95 of ${k}` }, k)),
            h('th', { scope: 'col' }, 'Engine'),
            h('th', { scope: 'col' }, 'File'),
          ),
        ),
        h(
          'tbody',
          {},
          ...c.entries.map((e) =>
            h(
              'tr',
              { 'data-label': e.label },
              h('th', { scope: 'row' }, e.label),
              h('td', { class: 'num strong', 'data-metric': 'map' }, pp(e.map)),
              h('td', { class: `num ${ref && e !== ref ? (e.map >= ref.map ? 'good' : 'bad') : 'muted'}` }, ref && e !== ref ? deltaText(e.map, ref.map) : 'ref'),
              ...(withCi
                ? [
                    h(
                      'td',
                      { class: 'num', 'data-metric': 'ci', title: e.vsRef ? `vs ${e.vsRef.against}; mAP@.5: ${ciText(e.vsRef.map50Ci)}` : '' },
                      e.vsRef ? ciText(e.vsRef.mapCi) : '',
                      e.vsRef?.noise ? h('span', { class: 'muted' }, ` ${NOISE}`) : '',
                    ),
                  ]
                : []),
              h('td', { class: 'num', 'data-metric': 'map50' }, pp(e.map50)),
              h('td', { class: 'num' }, pp(e.map75)),
              ...cats.map((k) => h('td', { class: 'num' }, pp(e.perCategory?.[k]))),
              h('td', {}, e.engine ?? '—', e.images ? h('span', { class: 'muted' }, ` (${e.images} images)`) : ''),
              h(
                'td',
                {},
                e.file
                  ? h(
                      'a',
                      {
                        href: '#',
                        title: e.file,
                        onclick: (ev: Event) => {
                          ev.preventDefault();
                          reveal(e.file!);
                        },
                      },
                      baseName(e.file),
                    )
                  : '—',
              ),
            ),
          ),
        ),
      ),
    ),
    c.outputs?.length
      ? h(
          'p',
          {},
          'Written: ',
          ...c.outputs.flatMap((o) => [
            h(
              'a',
              {
                href: '#',
                title: o.file,
                onclick: (ev: Event) => {
                  ev.preventDefault();
                  reveal(o.file);
                },
              },
              `${o.label} (${baseName(o.file)})`,
            ),
            ' ',
          ]),
        )
      : null,
    c.notes?.length ? h('ul', { class: 'notes info' }, ...c.notes.map((n) => h('li', {}, n))) : null,
    b
      ? h(
          'p',
          { class: 'muted' },
          `Intervals: 95% paired bootstrap over images (${b.resamples} resamples of the ${b.images} evaluation images, seed ${b.seed}). An interval that contains 0 is ${NOISE}.`,
        )
      : null,
  );
}
