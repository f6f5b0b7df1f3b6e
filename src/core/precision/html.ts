// The precision plan as a self-contained HTML page: the plan (names ready to paste), findings and
// honest limits, the per-layer table, and two charts: gain per layer, and the plan's mAP against
// the bytes it adds (each greedy step re-scored as a whole).
import { figuresHtml, type PlotlyFigure } from '../compare/html';
import { htmlPage } from '../compare/page';
import type { PrecisionReport } from './types';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const p2 = (x: number | undefined) => (x === undefined ? '—' : (x * 100).toFixed(2));
const d2 = (x: number | undefined) => (x === undefined ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(2)}`);

export function precisionFigures(r: PrecisionReport): PlotlyFigure[] {
  const scored = r.layers.filter((l) => l.gain !== undefined);
  const gains: PlotlyFigure = {
    id: 'precision-gain',
    title: `mAP@.5:.95 gain per layer with its ${r.activationsOnly ? 'input activations' : r.activations ? 'weights and input activations' : 'weights'} at ${r.bits} bits (points; model order; plan layers outlined)`,
    data: [{
      type: 'bar', x: scored.map((l) => l.name), y: scored.map((l) => l.gain! * 100),
      marker: { color: scored.map((l) => (l.gain! > 0 ? '#2a7a3b' : '#b23b3b')), line: { color: scored.map((l) => (l.planned ? '#1d2330' : 'rgba(0,0,0,0)')), width: 2 } },
      customdata: scored.map((l) => [l.bytesAdded, l.gain50! * 100]),
      hovertemplate: '%{x}<br>Δ mAP@.5:.95 %{y:.2f} points<br>Δ mAP@.5 %{customdata[1]:.2f}<br>+%{customdata[0]} bytes<extra></extra>',
    }],
    layout: { xaxis: { tickangle: -60, type: 'category' }, yaxis: { title: { text: 'Δ mAP@.5:.95 (points)' } }, margin: { t: 30, b: 170 } },
  };
  const steps = r.plan.steps;
  const kept = [{ x: 0, y: r.baseline.map * 100, name: 'QAT' }, ...steps.filter((s) => s.kept).map((s) => ({ x: s.bytesAdded, y: s.map * 100, name: s.name }))];
  const tried = steps.filter((s) => !s.kept);
  const curve: PlotlyFigure = {
    id: 'precision-plan',
    title: 'The plan\'s mAP@.5:.95 against the bytes it adds (greedy steps, each re-scored as a whole)',
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'plan (kept steps)', x: kept.map((k) => k.x), y: kept.map((k) => k.y), text: kept.map((k) => k.name), hovertemplate: '%{text}<br>+%{x} bytes<br>mAP@.5:.95 %{y:.2f}<extra></extra>' },
      { type: 'scatter', mode: 'markers', name: 'tried, not kept', x: tried.map((s) => s.bytesAdded), y: tried.map((s) => s.map * 100), text: tried.map((s) => s.name), marker: { symbol: 'x', color: '#b23b3b' }, hovertemplate: '%{text}<br>+%{x} bytes<br>mAP@.5:.95 %{y:.2f}<extra></extra>' },
      ...(r.float ? [{ type: 'scatter', mode: 'lines', name: 'float', x: [0, Math.max(1, ...steps.map((s) => s.bytesAdded))], y: [r.float.map * 100, r.float.map * 100], line: { dash: 'dot' } }] : []),
    ],
    layout: { xaxis: { title: { text: 'bytes added' }, rangemode: 'tozero' }, yaxis: { title: { text: 'mAP@.5:.95 (%)' } }, margin: { t: 30 }, legend: { orientation: 'h' } },
  };
  return [gains, curve];
}

export function precisionSectionHtml(r: PrecisionReport): string {
  const rows = r.layers.map((l) => `<tr${l.planned ? ' style="font-weight:600"' : ''}><td>${l.planned ? '✓ ' : ''}${esc(l.name)}</td><td>${esc(l.op)} [${l.shape.join('×')}]</td><td>W${l.bits}A${l.actBits ?? '–'} → W${l.toBits}A${l.actToBits ?? '–'}</td>`
    + `<td class="num">${l.bytes}</td><td class="num">+${l.bytesAdded}</td><td class="num">${(l.macs / 1e6).toFixed(2)}</td><td class="num">${(l.bops / 1e9).toFixed(2)} → ${(l.toBops / 1e9).toFixed(2)}</td>`
    + `<td class="num">${l.change !== undefined ? l.change.toExponential(2) : '—'}</td><td class="num">${l.towardFloat !== undefined ? (l.towardFloat * 100).toFixed(1) + '%' : '—'}</td>`
    + `<td class="num">${p2(l.map)}</td><td class="num">${d2(l.gain)}</td><td class="num">${d2(l.gain50)}</td></tr>`).join('');
  const plan = r.plan.layers.length
    ? `<p>Plan (${esc(r.naming)}), ready to paste into a training config:</p><pre>${esc(JSON.stringify(r.plan.layers))}</pre>`
    : '<p>The plan is empty: no layer raised mAP.</p>';
  const li = (xs: string[]) => xs.map((x) => `<li>${esc(x)}</li>`).join('');
  return `<section id="precision"><h2>Precision plan: which layers to keep at ${r.bits} bits</h2>
<p>Model ${esc(r.model)}; latent weights from ${esc(r.latentFrom)}; data ${esc(r.data)}${r.baseline.images ? `, ${r.baseline.images} images` : ''}${r.baseline.engine ? `, onnxruntime ${esc(r.baseline.engine)}` : ''}.
QAT mAP@.5:.95 ${p2(r.baseline.map)} (mAP@.5 ${p2(r.baseline.map50)})${r.float ? `; float ${p2(r.float.map)} (${p2(r.float.map50)})` : ''}; plan ${p2(r.plan.map)} (${p2(r.plan.map50)})${r.plan.gapShare !== undefined ? `, ${(r.plan.gapShare * 100).toFixed(1)}% of the float → QAT gap` : ''}; +${r.plan.bytesAdded} bytes${r.plan.out ? `; what-if model ${esc(r.plan.out)}` : ''}.</p>
${plan}
<ul>${li(r.findings)}</ul>
<h3>Limits</h3><ul>${li(r.limits)}</ul>
<h3>Per layer</h3>
<p>First pass: ${esc(r.firstPass.method)}. ${r.firstPass.scored} of ${r.firstPass.ranked} candidates scored in full.</p>
<table class="compare"><thead><tr><th>layer</th><th>op</th><th>width now → what-if</th><th>bytes</th><th>added</th><th>MMACs</th><th>GBOPs</th><th>output change</th><th>error vs float removed</th><th>mAP@.5:.95</th><th>Δ</th><th>Δ mAP@.5</th></tr></thead><tbody>${rows}</tbody></table>
${figuresHtml(precisionFigures(r))}
<ul class="notes">${li(r.notes)}</ul></section>`;
}

export function precisionPage(r: PrecisionReport): string {
  return htmlPage('QAT Lens: precision plan', precisionSectionHtml(r));
}
