// The probe as an HTML section of a report page: findings, soft-rounded weight counts, and the
// per-layer ranking (its chart is drawn by the report script from probeLayersData).
import { escapeHtml as esc } from '../report/escape';
import type { ProbeLayersData } from '../report/types';
import type { ProbeReport } from './probe';

/** The per-layer probe's chart data, or undefined without a per-layer probe. */
export function probeLayersData(r: ProbeReport): ProbeLayersData | undefined {
  if (!r.perLayer) return undefined;
  return { delta: r.perLayer.delta, images: r.perLayer.images, layers: r.perLayer.layers.map((l) => ({ name: l.name, relativeChange: l.relativeChange, flagged: !!l.flagged })) };
}

export function probeSectionHtml(r: ProbeReport, maxRows = 40): string {
  const findings = r.findings.map((f) => `<li>${esc(f)}</li>`).join('');
  const notes = r.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  let perLayer = '';
  if (r.perLayer) {
    const rows = r.perLayer.layers
      .slice(0, maxRows)
      .map(
        (l, i) =>
          `<tr><td class="num">${i + 1}</td><td>${l.flagged ? '⚑ ' : ''}${esc(l.name)}</td><td>${esc(l.op)} [${l.shape.join('×')}]</td><td class="num">${l.softWeights}</td><td class="num">${l.meanSquaredChange.toExponential(3)}</td><td class="num">${l.relativeChange.toExponential(3)}</td><td class="num">${(100 * l.changedFraction).toFixed(1)}%</td></tr>`,
      );
    perLayer = `<h3>Per layer (δ=${r.perLayer.delta}, ${r.perLayer.images} evaluation images, raw outputs vs the hard model)</h3>
<div class="table-wrap"><table class="probe"><thead><tr><th>#</th><th>layer</th><th>op</th><th>soft weights</th><th>mean squared change</th><th>relative</th><th>outputs changed</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>
<div class="charts"><div class="chart wide" id="chart-probe-layers"></div></div>`;
  }
  return `<section id="probe" class="probe"><h2>Soft-rounding probe</h2>
<p>Latent weights from ${esc(r.latentFrom)}. δ = 0 is hard quantization (the QAT model's integers).</p>
<ul>${findings}</ul>${perLayer}<ul class="notes">${notes}</ul></section>`;
}
