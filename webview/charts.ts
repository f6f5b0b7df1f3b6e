// Every chart of QAT Lens, built as plain Plotly data (pure: unit-tested without a browser). The
// panel and the HTML reports (webview/report.ts, inlined by src/core/report/html.ts) both draw these.
import type { AnalysisReport, LayerReport } from '../src/core/analysis/types';
import type { MapComparison, QcCurves } from '../src/core/compare/types';
import type { PrecisionReport } from '../src/core/precision/types';
import type { ProbeLayersData } from '../src/core/report/types';
import type { Theme } from './theme';

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const baseLayout = (t: Theme, title: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  title: { text: title, font: { size: 13, color: t.fg }, x: 0, xanchor: 'left' },
  paper_bgcolor: 'rgba(0,0,0,0)',
  plot_bgcolor: 'rgba(0,0,0,0)',
  font: { family: t.font, color: t.fg, size: 11 },
  margin: { l: 56, r: 16, t: 36, b: 48 },
  showlegend: false,
  hoverlabel: { font: { family: t.font } },
  // Vertical tool bar on the right: a horizontal one covers the chart's title.
  modebar: { orientation: 'v', bgcolor: 'rgba(0,0,0,0)', color: t.muted, activecolor: t.fg },
  ...extra,
});
const axis = (t: Theme, title: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  title: { text: title, font: { size: 11 } },
  gridcolor: t.grid,
  zerolinecolor: t.grid,
  linecolor: t.grid,
  automargin: true,
  ...extra,
});

/** C(δ) per layer in model order; flagged layers red, the selected one outlined; the C = 1 line is "no pile-up". */
export function concentrationFigure(report: AnalysisReport, selected: string | undefined, t: Theme): Figure {
  const layers = report.layers.filter((l) => l.concentration !== null);
  const minC = report.settings.minConcentration;
  return {
    data: [
      {
        type: 'bar',
        x: layers.map((l) => l.name),
        y: layers.map((l) => l.concentration),
        marker: {
          color: layers.map((l) => (l.flagged ? t.flagged : t.accent)),
          line: { color: layers.map((l) => (l.name === selected ? t.fg : 'rgba(0,0,0,0)')), width: 2.5 },
        },
        customdata: layers.map((l) => [l.flagged ? 'FLAGGED' : 'not flagged', l.nearThresholdFraction]),
        hovertemplate: '%{x}<br>C(δ) = %{y:.2f}<br>NT = %{customdata[1]:.3f}<br>%{customdata[0]}<extra></extra>',
      },
    ],
    layout: baseLayout(t, `Threshold concentration C(δ=${report.settings.delta}) per layer — red bars: flagged · dashed line: flag threshold C = ${minC} · dotted line: even spread C = 1`, {
      // Every layer named (smaller as they get many): a user must see which bar is which at a glance.
      xaxis: axis(t, 'layer (model order)', { tickangle: -60, type: 'category', tickfont: { size: layers.length > 80 ? 7 : layers.length > 40 ? 9 : 11 }, nticks: 400 }),
      yaxis: axis(t, 'C(δ)', { rangemode: 'tozero' }),
      shapes: [
        { type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 1, y1: 1, line: { color: t.muted, dash: 'dot', width: 1 } },
        { type: 'line', xref: 'paper', x0: 0, x1: 1, y0: minC, y1: minC, line: { color: t.flagged, dash: 'dash', width: 1 } },
      ],
    }),
  };
}

/** The layer's 20-bin histogram of fractional positions f, with the count an even spread would give. */
export function histogramFigure(layer: LayerReport, delta: number, t: Theme): Figure | undefined {
  const h = layer.histogram;
  if (!h) return undefined;
  const total = h.reduce((a, b) => a + b, 0);
  const bins = h.length;
  const x = h.map((_, i) => (i + 0.5) / bins);
  const even = total / bins;
  return {
    data: [
      {
        type: 'bar',
        x,
        y: h,
        width: 1 / bins,
        marker: { color: layer.flagged ? t.flagged : t.accent, line: { color: t.fg, width: 0.5 } },
        name: 'weights',
        hovertemplate: 'f ∈ [%{customdata[0]:.2f}, %{customdata[1]:.2f}): %{y} weights<extra></extra>',
        customdata: x.map((c) => [c - 0.5 / bins, c + 0.5 / bins]),
      },
      { type: 'scatter', mode: 'lines', x: [0, 1], y: [even, even], line: { color: t.muted, dash: 'dash', width: 1.5 }, name: 'even spread', hoverinfo: 'skip' },
    ],
    layout: baseLayout(t, `${layer.name}: where weights sit between levels (${total.toLocaleString()} in range)`, {
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: -0.25, font: { color: t.fg } },
      bargap: 0,
      xaxis: axis(t, 'fractional position f (0 = level, 0.5 = rounding threshold)', { range: [0, 1], tickvals: [0, 0.25, 0.5, 0.75, 1] }),
      yaxis: axis(t, 'weights', { rangemode: 'tozero' }),
      shapes: [{ type: 'rect', x0: 0.5 - delta, x1: 0.5 + delta, yref: 'paper', y0: 0, y1: 1, fillcolor: t.flagged, opacity: 0.12, line: { width: 0 }, layer: 'below' }],
      annotations: [{ x: 0.5, yref: 'paper', y: 1, text: `near threshold (|f−0.5| < ${delta})`, showarrow: false, yanchor: 'bottom', font: { color: t.flagged, size: 10 } }],
    }),
  };
}

/** Near-threshold fraction per output channel as a one-row heat strip, 2δ (even spread) at the scale's midpoint. */
export function perChannelFigure(layer: LayerReport, delta: number, t: Theme): Figure | undefined {
  const pc = layer.perChannel;
  if (!pc) return undefined;
  const nt = pc.nearThresholdFraction;
  const even = 2 * delta;
  return {
    data: [
      {
        type: 'heatmap',
        z: [nt],
        x: nt.map((_, i) => i),
        y: ['NT'],
        zmin: 0,
        zmax: Math.max(even * 2, ...nt.filter((v): v is number => v !== null)),
        colorscale: [
          [0, t.accent],
          [0.5, 'rgba(128,128,128,0.15)'],
          [1, t.flagged],
        ],
        colorbar: { title: { text: 'NT(δ)', side: 'right' }, thickness: 10, tickfont: { color: t.fg }, outlinewidth: 0 },
        hovertemplate: 'channel %{x}: NT = %{z:.3f}<extra></extra>',
        xgap: nt.length <= 128 ? 1 : 0,
      },
    ],
    layout: baseLayout(t, `${layer.name}: near-threshold share NT(δ) per output channel — grey = even spread (${even.toFixed(2)}), red = pile-up, blue = fewer`, {
      height: 150,
      margin: { l: 40, r: 16, t: 36, b: 36 },
      xaxis: axis(t, `output channel (axis ${pc.axis})`, { tickmode: 'linear', tick0: 0, dtick: Math.max(1, Math.ceil(nt.length / 32)), range: [-0.5, nt.length - 0.5] }),
      yaxis: axis(t, '', { showticklabels: false }),
    }),
  };
}

/** Scale across checkpoints (relative to the first), the selected and flagged layers drawn strongest. */
export function scaleTrajectoryFigure(report: AnalysisReport, selected: string | undefined, t: Theme): Figure | undefined {
  const seq = report.sequence;
  if (!seq || seq.order.length < 2) return undefined;
  const flagged = new Set(report.layers.filter((l) => l.flagged).map((l) => l.name));
  const x = seq.order.map((o, i) => (o.epoch !== null ? `epoch ${o.epoch}` : `#${i + 1} ${o.file.split(/[\\/]/).pop()}`));
  const data = seq.layers.map((l) => {
    const s0 = l.scaleTrajectory[0] || 1;
    const sel = l.name === selected;
    return {
      type: 'scatter',
      mode: 'lines+markers',
      x,
      y: l.scaleTrajectory.map((s) => s / s0),
      name: l.name,
      line: { color: sel ? t.fg : flagged.has(l.name) ? t.flagged : t.accent, width: sel ? 3 : 1 },
      opacity: sel ? 1 : flagged.has(l.name) ? 0.7 : 0.25,
      marker: { size: sel ? 6 : 3 },
      hovertemplate: `${l.name}<br>%{x}: s / s₀ = %{y:.4f}<extra></extra>`,
    };
  });
  // Draw the selected layer last so it sits on top.
  data.sort((a, b) => Number(a.name === selected) - Number(b.name === selected));
  return {
    data,
    layout: baseLayout(t, `Weight scale per layer across checkpoints, s / s₀ — bold: ${selected ?? 'selected'}, red: flagged`, {
      xaxis: axis(t, `checkpoint (ordered by ${seq.orderedBy})`, { type: 'category' }),
      yaxis: axis(t, 's / s₀'),
    }),
  };
}

/** mAP@.5:.95 and mAP@.5 per model, grouped bars. */
export function mapBarsFigure(c: MapComparison, t: Theme): Figure {
  const labels = c.entries.map((e) => e.label);
  return {
    data: [
      {
        type: 'bar',
        name: 'mAP@.5:.95',
        x: labels,
        y: c.entries.map((e) => e.map * 100),
        marker: { color: t.accent },
        text: c.entries.map((e) => (e.map * 100).toFixed(1)),
        textposition: 'outside',
        hovertemplate: '%{x}: mAP@.5:.95 %{y:.2f}<extra></extra>',
      },
      {
        type: 'bar',
        name: 'mAP@.5',
        x: labels,
        y: c.entries.map((e) => e.map50 * 100),
        marker: { color: 'rgba(0,0,0,0)', line: { color: t.accent, width: 2 }, pattern: { shape: '/', fgcolor: t.accent, size: 6, solidity: 0.25 } },
        text: c.entries.map((e) => (e.map50 * 100).toFixed(1)),
        textposition: 'outside',
        hovertemplate: '%{x}: mAP@.5 %{y:.2f}<extra></extra>',
      },
    ],
    layout: baseLayout(t, 'COCO mAP (%) side by side', {
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: -0.2 },
      barmode: 'group',
      xaxis: axis(t, '', { type: 'category' }),
      yaxis: axis(t, 'mAP (%)', { rangemode: 'tozero' }),
    }),
  };
}

/** Fixed colours for the three models people compare most, so float/QAT/QC read the same everywhere. */
export function lineColor(label: string, i: number, t: Theme): string {
  if (label === 'float') return t.fg;
  if (/^QAT\b/.test(label)) return t.accent;
  if (label === 'QC') return t.ok;
  // The rest cycle through colours none of those three use (orange, purple, yellow).
  const rest = [t.series[1]!, t.series[3]!, t.series[4]!, t.muted];
  return rest[i % rest.length]!;
}

/** Precision-recall curves, one per model. */
export function prFigure(c: MapComparison, t: Theme): Figure | undefined {
  const withPr = c.entries.filter((e) => e.pr);
  if (!withPr.length) return undefined;
  // Colour index counts only the rows without a fixed colour, so they never repeat among themselves (up to 4).
  const fixed = (l: string): boolean => l === 'float' || l === 'QC' || /^QAT\b/.test(l);
  const otherIndex = new Map(withPr.filter((e) => !fixed(e.label)).map((e, k) => [e, k]));
  return {
    data: withPr.map((e) => ({
      type: 'scatter',
      mode: 'lines',
      name: e.label,
      x: e.pr!.recall,
      y: e.pr!.precision,
      line: { color: lineColor(e.label, otherIndex.get(e) ?? 0, t), width: e.label === 'QC' ? 2.5 : 2 },
      hovertemplate: `${e.label}<br>recall %{x:.2f}: precision %{y:.3f}<extra></extra>`,
    })),
    layout: baseLayout(t, `Precision–recall${c.prIou ? ` (IoU ${c.prIou})` : ''}, all categories`, {
      showlegend: true,
      legend: { x: 1, xanchor: 'right', y: 1 },
      xaxis: axis(t, 'recall', { range: [0, 1] }),
      yaxis: axis(t, 'precision', { range: [0, 1.02] }),
    }),
  };
}

/** QC's training: loss per step (left axis) and, where the step was chosen, held-out mAP (right axis) with the kept step marked. */
export function qcCurvesFigure(q: QcCurves, t: Theme): Figure | undefined {
  if (!q.loss.length) return undefined;
  const data: Record<string, unknown>[] = [
    {
      type: 'scatter',
      mode: 'lines',
      name: 'training loss',
      x: q.loss.map((_, i) => i + 1),
      y: q.loss,
      line: { color: t.muted, width: 1.5 },
      hovertemplate: 'step %{x}: loss %{y:.4f}<extra></extra>',
    },
  ];
  const held = q.heldOut ?? [];
  if (held.length) {
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: `held-out mAP@.5:.95${q.heldOutImages ? ` (${q.heldOutImages} images)` : ''}`,
      x: held.map((p) => p.step),
      y: held.map((p) => p.map * 100),
      yaxis: 'y2',
      line: { color: t.ok, width: 2 },
      hovertemplate: 'step %{x}: held-out mAP@.5:.95 %{y:.2f}<extra></extra>',
    });
    const kept = held.find((p) => p.step === q.keptStep);
    if (kept)
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: `kept: step ${kept.step}`,
        x: [kept.step],
        y: [kept.map * 100],
        yaxis: 'y2',
        marker: { color: t.ok, size: 12, symbol: 'star', line: { color: t.fg, width: 1 } },
        hovertemplate: 'kept step %{x}: held-out mAP@.5:.95 %{y:.2f}<extra></extra>',
      });
  }
  return {
    data,
    layout: baseLayout(t, held.length ? 'QC training: loss and held-out mAP' : 'QC training loss', {
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: -0.25 },
      xaxis: axis(t, 'step'),
      yaxis: axis(t, 'loss per image'),
      ...(held.length ? { yaxis2: axis(t, 'held-out mAP@.5:.95 (%)', { overlaying: 'y', side: 'right', showgrid: false }) } : {}),
    }),
  };
}

/** Per-layer probe: how much the outputs change when one layer alone is soft-rounded (log scale). */
export function probeLayersFigure(p: ProbeLayersData, t: Theme): Figure {
  return {
    data: [
      {
        type: 'bar',
        x: p.layers.map((l) => l.name),
        y: p.layers.map((l) => l.relativeChange),
        marker: { color: p.layers.map((l) => (l.flagged ? t.flagged : t.accent)) },
        hovertemplate: '%{x}<br>relative squared change %{y:.3e}<extra></extra>',
      },
    ],
    layout: baseLayout(t, `Output change when soft-rounding one layer at δ=${p.delta} (${p.images} images) — red: flagged`, {
      xaxis: axis(t, 'layer (largest change first)', { tickangle: -60, type: 'category', tickfont: { size: p.layers.length > 40 ? 9 : 11 } }),
      yaxis: axis(t, 'mean squared change / mean square of outputs', { type: 'log' }),
    }),
  };
}

/** Precision plan: mAP@.5:.95 change per scored layer (model order), plan layers outlined, positive green. */
export function precisionGainFigure(r: PrecisionReport, t: Theme): Figure | undefined {
  const rows = r.layers.filter((l) => l.gain !== undefined);
  if (!rows.length) return undefined;
  return {
    data: [
      {
        type: 'bar',
        x: rows.map((l) => l.name),
        y: rows.map((l) => l.gain! * 100),
        marker: { color: rows.map((l) => (l.gain! > 0 ? t.ok : t.flagged)), line: { color: rows.map((l) => (l.planned ? t.fg : 'rgba(0,0,0,0)')), width: 2.5 } },
        customdata: rows.map((l) => [l.bytesAdded, l.gain50! * 100, l.planned ? 'in the plan' : '']),
        hovertemplate: '%{x}<br>Δ mAP@.5:.95 %{y:+.2f} points<br>Δ mAP@.5 %{customdata[1]:+.2f}<br>+%{customdata[0]} bytes<br>%{customdata[2]}<extra></extra>',
      },
    ],
    layout: baseLayout(
      t,
      `mAP@.5:.95 change per layer with its ${r.activationsOnly ? 'input activations' : r.activations ? 'weights and input activations' : 'weights'} at ${r.bits} bits (points) — outlined: in the plan`,
      {
        xaxis: axis(t, 'layer (model order)', { tickangle: -60, type: 'category', tickfont: { size: rows.length > 40 ? 9 : 11 }, nticks: 400 }),
        yaxis: axis(t, 'Δ mAP@.5:.95 (points)', { zeroline: true }),
      },
    ),
  };
}

/** Precision plan: the plan's mAP@.5:.95 against the bytes it adds, each greedy step re-scored as a whole. */
export function precisionPlanFigure(r: PrecisionReport, t: Theme): Figure {
  const kept = [{ x: 0, y: r.baseline.map * 100, name: 'QAT model' }, ...r.plan.steps.filter((s) => s.kept).map((s) => ({ x: s.bytesAdded, y: s.map * 100, name: `+ ${s.name}` }))];
  const tried = r.plan.steps.filter((s) => !s.kept);
  const xmax = Math.max(1, ...r.plan.steps.map((s) => s.bytesAdded));
  const data: Record<string, unknown>[] = [
    {
      type: 'scatter',
      mode: 'lines+markers',
      name: 'plan',
      x: kept.map((k) => k.x),
      y: kept.map((k) => k.y),
      text: kept.map((k) => k.name),
      line: { color: t.ok, width: 2 },
      hovertemplate: '%{text}<br>+%{x} bytes: mAP@.5:.95 %{y:.2f}<extra></extra>',
    },
    {
      type: 'scatter',
      mode: 'markers',
      name: 'tried, not kept',
      x: tried.map((s) => s.bytesAdded),
      y: tried.map((s) => s.map * 100),
      text: tried.map((s) => s.name),
      marker: { symbol: 'x', color: t.flagged, size: 8 },
      hovertemplate: '+ %{text} (not kept)<br>+%{x} bytes: mAP@.5:.95 %{y:.2f}<extra></extra>',
    },
  ];
  if (r.float) data.push({ type: 'scatter', mode: 'lines', name: 'float', x: [0, xmax], y: [r.float.map * 100, r.float.map * 100], line: { color: t.fg, dash: 'dot', width: 1 }, hoverinfo: 'skip' });
  return {
    data,
    layout: baseLayout(t, "The plan's mAP@.5:.95 against the bytes it adds (each step re-scored as a whole)", {
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: -0.2 },
      xaxis: axis(t, 'bytes added', { rangemode: 'tozero' }),
      yaxis: axis(t, 'mAP@.5:.95 (%)'),
    }),
  };
}
