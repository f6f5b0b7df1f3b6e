// The probe as an HTML section: findings, soft-rounded weight counts, and the per-layer ranking.
import { figuresHtml, type PlotlyFigure } from '../compare/html';
import type { ProbeReport } from './probe';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function probeSectionHtml(r: ProbeReport, maxRows = 40): string {
  const findings = r.findings.map((f) => `<li>${esc(f)}</li>`).join('');
  const notes = r.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  let perLayer = '';
  if (r.perLayer) {
    const rows = r.perLayer.layers.slice(0, maxRows).map((l, i) =>
      `<tr><td class="num">${i + 1}</td><td>${l.flagged ? '⚑ ' : ''}${esc(l.name)}</td><td>${esc(l.op)} [${l.shape.join('×')}]</td><td class="num">${l.softWeights}</td><td class="num">${l.meanSquaredChange.toExponential(3)}</td><td class="num">${l.relativeChange.toExponential(3)}</td><td class="num">${(100 * l.changedFraction).toFixed(1)}%</td></tr>`);
    const fig: PlotlyFigure = {
      id: 'probe-per-layer',
      title: `Output change when soft-rounding one layer at δ=${r.perLayer.delta} (${r.perLayer.images} images)`,
      data: [{ type: 'bar', x: r.perLayer.layers.map((l) => l.name), y: r.perLayer.layers.map((l) => l.relativeChange), name: 'relative MSE' }],
      layout: { yaxis: { title: { text: 'mean squared change / mean square of outputs' }, type: 'log' }, margin: { t: 30, b: 160 }, xaxis: { tickangle: -60 } },
    };
    perLayer = `<h3>Per layer (δ=${r.perLayer.delta}, ${r.perLayer.images} evaluation images, raw outputs vs the hard model)</h3>
<table class="probe"><thead><tr><th>#</th><th>layer</th><th>op</th><th>soft weights</th><th>mean squared change</th><th>relative</th><th>outputs changed</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${figuresHtml([fig])}`;
  }
  return `<section id="probe"><h2>Soft-rounding probe</h2>
<p>Latent weights from ${esc(r.latentFrom)}. δ = 0 is hard quantization (the QAT model's integers).</p>
<ul>${findings}</ul>${perLayer}<ul class="notes">${notes}</ul></section>`;
}
