// Chart containers and drawing for both views.
import type { AnalysisReport } from '../src/core/analysis/types';
import type { PrecisionReport } from '../src/core/precision/types';
import type { MapComparison } from '../src/shared/protocol';
import { concentrationFigure, histogramFigure, mapBarsFigure, perChannelFigure, prFigure, precisionGainFigure, precisionPlanFigure, qcCurvesFigure, scaleTrajectoryFigure } from './charts';
import { h } from './dom';
import { draw } from './plotly';
import type { Theme } from './theme';

export function analysisChartsView(): HTMLElement {
  return h(
    'section',
    { class: 'charts' },
    h('div', { class: 'chart wide', id: 'chart-concentration' }),
    h('div', { class: 'chart', id: 'chart-histogram' }),
    h('div', { class: 'chart', id: 'chart-scale' }),
    h('div', { class: 'chart wide strip', id: 'chart-perchannel' }),
  );
}

const note = (el: HTMLElement, text: string): void => {
  if (el.classList.contains('js-plotly-plot')) el.replaceChildren();
  el.className = el.className.replace(/\bjs-plotly-plot\b/, '');
  el.replaceChildren(h('p', { class: 'chart-note' }, text));
};

export async function drawAnalysisCharts(root: HTMLElement, r: AnalysisReport, selected: string | undefined, t: Theme, select: (layer: string) => void): Promise<void> {
  const get = (id: string): HTMLElement | null => root.querySelector<HTMLElement>(`#${id}`);
  const layer = r.layers.find((l) => l.name === selected);
  const jobs: Promise<void>[] = [];
  const c = get('chart-concentration');
  if (c) {
    if (r.layers.some((l) => l.concentration !== null)) jobs.push(draw(c, concentrationFigure(r, selected, t), (x) => select(x)));
    else note(c, 'No layer has latent weights (integers only): fractional positions and C(δ) are not defined.');
  }
  const hist = get('chart-histogram');
  if (hist) {
    const f = layer && histogramFigure(layer, r.settings.delta, t);
    if (f) jobs.push(draw(hist, f));
    else note(hist, layer ? `${layer.name}: stored as integers only, no fractional positions.` : 'Select a layer in the table or the bar chart.');
  }
  const pc = get('chart-perchannel');
  if (pc) {
    const f = layer && perChannelFigure(layer, r.settings.delta, t);
    if (f) jobs.push(draw(pc, f));
    else note(pc, 'Per-channel near-threshold shares appear here for the selected layer.');
  }
  const sc = get('chart-scale');
  if (sc) {
    const f = scaleTrajectoryFigure(r, selected, t);
    if (f) jobs.push(draw(sc, f, (_x, trace) => trace && select(trace)));
    else note(sc, 'Scale trajectories need several checkpoints of one run: select them together in the Explorer, then Analyze Oscillation.');
  }
  await Promise.all(jobs);
}

export function mapChartsView(c?: MapComparison): HTMLElement {
  return h(
    'section',
    { class: 'charts' },
    h('div', { class: 'chart', id: 'chart-map-bars' }),
    h('div', { class: 'chart', id: 'chart-pr' }),
    ...(c?.qc ? [h('div', { class: 'chart wide', id: 'chart-qc' })] : []),
  );
}

export async function drawMapCharts(root: HTMLElement, c: MapComparison, t: Theme): Promise<void> {
  const bars = root.querySelector<HTMLElement>('#chart-map-bars');
  const pr = root.querySelector<HTMLElement>('#chart-pr');
  const jobs: Promise<void>[] = [];
  if (bars) jobs.push(draw(bars, mapBarsFigure(c, t)));
  const qc = root.querySelector<HTMLElement>('#chart-qc');
  if (qc && c.qc) {
    const f = qcCurvesFigure(c.qc, t);
    if (f) jobs.push(draw(qc, f));
    else note(qc, 'QC ran no training step.');
  }
  if (pr) {
    const f = prFigure(c, t);
    if (f) jobs.push(draw(pr, f));
    else note(pr, 'No precision-recall curves in these results.');
  }
  await Promise.all(jobs);
}

export async function drawPrecisionCharts(root: HTMLElement, r: PrecisionReport, t: Theme): Promise<void> {
  const gain = root.querySelector<HTMLElement>('#chart-precision-gain');
  const plan = root.querySelector<HTMLElement>('#chart-precision-plan');
  const jobs: Promise<void>[] = [];
  if (gain) {
    const f = precisionGainFigure(r, t);
    if (f) jobs.push(draw(gain, f));
    else note(gain, 'No layer was scored in full.');
  }
  if (plan) jobs.push(draw(plan, precisionPlanFigure(r, t)));
  await Promise.all(jobs);
}
