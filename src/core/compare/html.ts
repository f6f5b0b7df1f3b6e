// The comparison as chart data (grouped mAP bars, precision/recall curves overlaid) and as a
// self-contained HTML section. Plotly figures are plain JSON so the report page, the panel and
// tests all use the same ones.
import { ciText, NOISE } from './diffText';
import { gapLine, referenceOf } from './table';
import type { CompareEntry, CompareReport } from './types';

export interface PlotlyFigure {
  id: string;
  title: string;
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function compareFigures(entries: CompareEntry[]): PlotlyFigure[] {
  const labels = entries.map((e) => e.label);
  const bars: PlotlyFigure = {
    id: 'compare-bars',
    title: 'mAP side by side',
    data: [
      { type: 'bar', name: 'mAP@.5:.95', x: labels, y: entries.map((e) => e.map), text: entries.map((e) => (e.map * 100).toFixed(1)), textposition: 'outside' },
      { type: 'bar', name: 'mAP@.5', x: labels, y: entries.map((e) => e.map50), text: entries.map((e) => (e.map50 * 100).toFixed(1)), textposition: 'outside' },
    ],
    layout: { barmode: 'group', yaxis: { title: { text: 'mAP' }, rangemode: 'tozero' }, margin: { t: 30, b: 120 }, legend: { orientation: 'h' } },
  };
  const curve = (id: string, title: string, pick: (e: CompareEntry) => CompareEntry['pr']): PlotlyFigure => ({
    id, title,
    data: entries.filter((e) => pick(e)).map((e) => ({ type: 'scatter', mode: 'lines', name: e.label, x: pick(e)!.recall, y: pick(e)!.precision })),
    layout: { xaxis: { title: { text: 'recall' }, range: [0, 1] }, yaxis: { title: { text: 'precision' }, range: [0, 1.02] }, margin: { t: 30 } },
  });
  return [
    bars,
    curve('compare-pr', 'Precision / recall, IoU .50:.95 (mean over classes and IoUs)', (e) => e.pr),
    curve('compare-pr50', 'Precision / recall, IoU .50 (mean over classes)', (e) => e.pr50),
  ];
}

/** An HTML table of the entries. */
export function compareTableHtml(entries: CompareEntry[]): string {
  const rows = entries.map((e) => {
    const ref = referenceOf(e, entries);
    const d = ref ? `${e.map - ref.map >= 0 ? '+' : '−'}${Math.abs((e.map - ref.map) * 100).toFixed(1)} vs ${esc(ref.label)}` : '';
    const soft = e.softWeights !== undefined && e.probedWeights ? `${e.softWeights} (${((100 * e.softWeights) / e.probedWeights).toFixed(1)}%)` : '';
    const ci = e.vsRef ? `${ciText(e.vsRef.mapCi)}${e.vsRef.noise ? ` <span class="noise">${NOISE}</span>` : ''}` : '';
    const ci50 = e.vsRef ? ciText(e.vsRef.map50Ci) : '';
    return `<tr><td>${esc(e.label)}</td><td class="num">${(e.map * 100).toFixed(1)}</td><td class="num">${(e.map50 * 100).toFixed(1)}</td><td class="num">${d}</td><td class="num">${ci}</td><td class="num">${ci50}</td><td class="num">${soft}</td><td>${esc(e.file ?? '')}</td></tr>`;
  });
  return `<table class="compare"><thead><tr><th>model</th><th>mAP@.5:.95 (%)</th><th>mAP@.5 (%)</th><th>Δ mAP@.5:.95</th><th>95% CI of Δ mAP@.5:.95</th><th>95% CI of Δ mAP@.5</th><th>latent-valued weights</th><th>file</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Figures as divs plus the script that draws them (Plotly must be loaded before). */
export function figuresHtml(figs: PlotlyFigure[]): string {
  const divs = figs.map((f) => `<h3>${esc(f.title)}</h3><div id="${f.id}" class="plot"></div>`).join('\n');
  const json = JSON.stringify(figs.map((f) => ({ id: f.id, data: f.data, layout: f.layout }))).replace(/</g, '\\u003c');
  return `${divs}\n<script>for (const f of ${json}) Plotly.newPlot(f.id, f.data, f.layout, { responsive: true, displaylogo: false });</script>`;
}

/** The comparison section of a report page: table, gap recovered, notes, charts. */
export function compareSectionHtml(r: CompareReport): string {
  const gap = r.gapRecovered ? `<p>${esc(gapLine(r.gapRecovered))}.</p>` : '';
  const b = r.comparison.bootstrap;
  const boot = b ? `<p class="notes">Intervals: 95% paired bootstrap over images (${b.resamples} resamples of the ${b.images} evaluation images, seed ${b.seed}; COCOeval's per-image matches re-accumulated). An interval that contains 0 is ${NOISE}.</p>` : '';
  const notes = (r.comparison.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join('');
  return [
    `<section id="compare"><h2>${esc(r.comparison.title)}</h2>`,
    `<p>Data: ${esc(r.comparison.data ?? '')}${r.images ? `, ${r.images} images` : ''}${r.engine ? `, onnxruntime ${esc(r.engine)} engine` : ''}.</p>`,
    compareTableHtml(r.comparison.entries),
    gap,
    boot,
    notes ? `<ul class="notes">${notes}</ul>` : '',
    figuresHtml(compareFigures(r.comparison.entries)),
    '</section>',
  ].join('\n');
}
