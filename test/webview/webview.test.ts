// Panel logic without a browser: table rows, sorting, filtering, selection and the chart figures,
// on a real report from the analyze job (a torch-exported QDQ fixture) and on small made-up ones.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AnalysisReport, LayerReport } from '../../src/core/analysis/types';
import { quietContext } from '../../src/core/context';
import { runAnalyze } from '../../src/core/jobs/analyze';
import type { MapComparison } from '../../src/shared/protocol';
import { keptStepSentence, qcCurves, toComparison } from '../../src/core/compare/view';
import { concentrationFigure, histogramFigure, lineColor, mapBarsFigure, perChannelFigure, prFigure, probeLayersFigure, qcCurvesFigure, scaleTrajectoryFigure } from '../../webview/charts';
import { fixed, pct, sig } from '../../webview/format';
import { deltaText, referenceIndex } from '../../webview/mapView';
import { defaultSelection, filterRows, initialState, layerRows, nextSort, sortRows, visibleRows } from '../../webview/state';
import type { Theme } from '../../webview/theme';

const theme: Theme = { fg: '#111', muted: '#777', grid: '#ccc', accent: 'blue', flagged: 'red', ok: 'green', font: 'sans', highContrast: false, series: ['a', 'b', 'c'] };

function layer(name: string, over: Partial<LayerReport> = {}): LayerReport {
  return {
    name,
    op: 'Conv',
    shape: [2, 1, 1, 1],
    storedDtype: 'float32',
    bits: 4,
    bitsSource: 'range',
    qmin: -8,
    qmax: 7,
    quantizerKind: 'LSQ',
    granularity: 'per-tensor',
    scale: 0.1,
    zeroPoint: 0,
    count: 100,
    hasLatent: true,
    integerSource: 'computed',
    storedIntegerMismatches: null,
    clippedFraction: 0,
    inRange: 100,
    nearThresholdFraction: 0.1,
    concentration: 1,
    meanDistance: 0.25,
    histogram: new Array(20).fill(5),
    perChannel: { axis: 0, nearThresholdFraction: [0.05, 0.15], concentration: [0.5, 1.5] },
    flagged: false,
    reason: 'not significant',
    z: 0,
    pValue: 0.5,
    log10PValue: -0.3,
    pValueAdjusted: 1,
    log10PValueAdjusted: 0,
    ...over,
  };
}

function report(layers: LayerReport[], extra: Partial<AnalysisReport> = {}): AnalysisReport {
  return {
    schema: 'qat-lens/analysis@1',
    summary: { model: 'm', format: 'pytorch', files: ['/x/a.pt'], bits: [4], layerCount: layers.length, flaggedCount: layers.filter((l) => l.flagged).length, integerOnlyCount: 0, notes: [] },
    settings: { delta: 0.05, minConcentration: 1.5, maxPValue: 0.001, bits: null },
    checkpoints: [],
    layers,
    activations: [],
    ...extra,
  };
}

const made = report(
  [
    layer('a', { concentration: 2.5, nearThresholdFraction: 0.25, flagged: true, reason: 'pile-up at thresholds' }),
    layer('b', { concentration: null, nearThresholdFraction: null, histogram: null, perChannel: null, hasLatent: false, reason: 'integers only' }),
    layer('c', { concentration: 0.8, scale: { channels: 2, axis: 0, min: 0.1, max: 0.3, mean: 0.2, values: [0.1, 0.3] }, modelVsEmaFlipFraction: 0.02 }),
    layer('d', { concentration: 3, flagged: true, reason: 'strong pile-up' }),
  ],
  {
    sequence: {
      order: [
        { file: '/x/e1.pt', epoch: 1, variant: 'model' },
        { file: '/x/e2.pt', epoch: 2, variant: 'model' },
        { file: '/x/e3.pt', epoch: 3, variant: 'model' },
      ],
      orderedBy: 'epoch',
      layers: [
        {
          name: 'a',
          flipFractions: [0.1, 0.3],
          meanReversals: 0.05,
          reversalShare: 0.04,
          scaleRelativeChange: [0.1, 0.1],
          scaleRelativeChangeMax: [0.1, 0.1],
          scaleCV: 0.08,
          scaleCVMax: 0.08,
          scaleTrajectory: [0.2, 0.22, 0.198],
          concentration: [1, 2, 2.5],
          nearThresholdFraction: [0.1, 0.2, 0.25],
          flagged: [false, true, true],
        },
      ],
      activations: [],
      partial: [],
      shapeMismatch: [],
    },
  },
);

test('layer rows carry the report values and the sequence statistics', () => {
  const rows = layerRows(made);
  assert.equal(rows.length, 4);
  const a = rows[0]!;
  assert.ok(Math.abs(a.flips! - 0.2) < 1e-12, 'mean of the flip fractions');
  assert.equal(a.reversals, 0.05);
  assert.equal(rows[2]!.scale, 0.2, 'per-channel scale shows its mean');
  assert.equal(rows[2]!.perChannelScale, 2);
  assert.equal(rows[2]!.ema, 0.02);
  assert.equal(rows[1]!.flips, null, 'no sequence entry: no flips');
});

test('sorting: numbers descending on first click, nulls always last, ties by model order', () => {
  const rows = layerRows(made);
  assert.deepEqual(
    sortRows(rows, 'concentration', true).map((r) => r.name),
    ['d', 'a', 'c', 'b'],
  );
  assert.deepEqual(
    sortRows(rows, 'concentration', false).map((r) => r.name),
    ['c', 'a', 'd', 'b'],
  );
  assert.deepEqual(
    sortRows(rows, 'flagged', true).map((r) => r.name),
    ['a', 'd', 'b', 'c'],
  );
  assert.deepEqual(nextSort({ key: 'index', desc: false }, 'nt'), { key: 'nt', desc: true });
  assert.deepEqual(nextSort({ key: 'nt', desc: true }, 'nt'), { key: 'nt', desc: false });
  assert.deepEqual(nextSort({ key: 'nt', desc: true }, 'name'), { key: 'name', desc: false });
});

test('filtering by text (name, op, reason) and flagged only', () => {
  const rows = layerRows(made);
  assert.deepEqual(
    filterRows(rows, 'PILE', false).map((r) => r.name),
    ['a', 'd'],
  );
  assert.deepEqual(
    filterRows(rows, '', true).map((r) => r.name),
    ['a', 'd'],
  );
  assert.deepEqual(
    filterRows(rows, 'integers', true).map((r) => r.name),
    [],
  );
  const s = { ...initialState(), analysis: { report: made, engine: 'x' }, filter: { text: 'strong', flaggedOnly: false } };
  assert.deepEqual(
    visibleRows(s).map((r) => r.name),
    ['d'],
  );
});

test('default selection: the most concentrated flagged layer', () => {
  assert.equal(defaultSelection(made), 'd');
  assert.equal(defaultSelection(report([layer('x', { histogram: null }), layer('y')])), 'y');
});

test('concentration chart: flagged bars red, the selected outlined, layers without C left out', () => {
  const f = concentrationFigure(made, 'c', theme);
  const bar = f.data[0] as { x: string[]; y: number[]; marker: { color: string[]; line: { color: string[] } } };
  assert.deepEqual(bar.x, ['a', 'c', 'd']);
  assert.deepEqual(bar.marker.color, ['red', 'blue', 'red']);
  assert.deepEqual(
    bar.marker.line.color.map((c) => c === theme.fg),
    [false, true, false],
  );
  const shapes = f.layout.shapes as { y0: number }[];
  assert.deepEqual(
    shapes.map((s) => s.y0),
    [1, 1.5],
    'even-spread line and flag threshold',
  );
});

test('histogram: the even-spread line is the mean bin count; near-threshold band is 0.5 ± δ', () => {
  const l = layer('h', { histogram: [...new Array(10).fill(1), ...new Array(10).fill(3)] });
  const f = histogramFigure(l, 0.05, theme)!;
  const even = f.data[1] as { y: number[] };
  assert.deepEqual(even.y, [2, 2]);
  const band = (f.layout.shapes as { x0: number; x1: number }[])[0]!;
  assert.ok(Math.abs(band.x0 - 0.45) < 1e-12 && Math.abs(band.x1 - 0.55) < 1e-12);
  assert.equal(histogramFigure(layer('n', { histogram: null }), 0.05, theme), undefined);
});

test('per-channel strip and scale trajectories', () => {
  const pc = perChannelFigure(made.layers[0]!, 0.05, theme)!;
  assert.deepEqual((pc.data[0] as { z: number[][] }).z, [[0.05, 0.15]]);
  const tr = scaleTrajectoryFigure(made, 'a', theme)!;
  const a = tr.data.find((d) => d.name === 'a') as { y: number[]; x: string[] };
  assert.deepEqual(a.x, ['epoch 1', 'epoch 2', 'epoch 3']);
  assert.ok(Math.abs(a.y[1]! - 1.1) < 1e-12 && Math.abs(a.y[2]! - 0.99) < 1e-12, 'relative to the first checkpoint');
  assert.equal(scaleTrajectoryFigure(report([layer('x')]), 'x', theme), undefined, 'no sequence, no chart');
});

test('mAP view: bars in percent, PR curves only where present, Δ against QAT', () => {
  const c: MapComparison = {
    title: 'QC',
    entries: [
      { label: 'float', map: 0.5, map50: 0.7 },
      { label: 'QAT', map: 0.4, map50: 0.6, pr: { recall: [0, 1], precision: [1, 0] } },
      { label: 'QC', map: 0.4123, map50: 0.61 },
    ],
  };
  assert.deepEqual(
    (mapBarsFigure(c, theme).data[0] as { y: number[] }).y.map((v) => +v.toFixed(2)),
    [50, 40, 41.23],
  );
  assert.equal(prFigure(c, theme)!.data.length, 1);
  assert.equal(referenceIndex(c), 1);
  assert.equal(deltaText(0.4123, 0.4), '+1.23');
  assert.equal(deltaText(0.39, 0.4), '−1.00');
});

test('formatting: dashes for undefined numbers, significant digits for scales', () => {
  assert.equal(pct(null), '—');
  assert.equal(pct(0.1234), '12.3%');
  assert.equal(fixed(Number.NaN), '—');
  assert.equal(sig(0.000123456), '1.23e-4');
  assert.equal(sig(0.0234), '0.0234');
});

test('a real report (analyze job on a torch-exported QDQ model) gives one row per layer, flags as the report', async () => {
  const r = (await runAnalyze({ files: [join(__dirname, '..', 'fixtures', 'readers', 'onnx_torch_qclipdq.onnx')] }, quietContext())).report;
  const rows = layerRows(r);
  assert.equal(rows.length, r.summary.layerCount);
  assert.deepEqual(
    rows.filter((x) => x.flagged).map((x) => x.name),
    r.layers.filter((l) => l.flagged).map((l) => l.name),
  );
  for (const [i, l] of r.layers.entries()) assert.equal(rows[i]!.nt, l.nearThresholdFraction);
  const f = concentrationFigure(r, defaultSelection(r), theme);
  assert.equal((f.data[0] as { x: string[] }).x.length, r.layers.filter((l) => l.concentration !== null).length);
});

test('PR colours: float, QAT and QC fixed; other rows never take one of theirs', () => {
  const t6: Theme = { ...theme, series: ['s0', 's1', 's2', 's3', 's4', 'blue'] };
  assert.equal(lineColor('float', 0, t6), t6.fg);
  assert.equal(lineColor('QAT (hard, δ=0)', 0, t6), t6.accent);
  assert.equal(lineColor('QC', 5, t6), t6.ok);
  const others = [0, 1, 2, 3].map((i) => lineColor(`soft-round δ=${i}`, i, t6));
  assert.equal(new Set(others).size, 4, 'four other rows, four colours');
  for (const c of others) assert.ok(![t6.fg, t6.accent, t6.ok, 'blue'].includes(c));
});

test('probe chart: one bar per probed layer in the given order, flagged ones red, log scale', () => {
  const f = probeLayersFigure(
    {
      delta: 0.1,
      images: 2,
      layers: [
        { name: 'b', relativeChange: 0.3, flagged: true },
        { name: 'a', relativeChange: 0.01, flagged: false },
      ],
    },
    theme,
  );
  const bar = f.data[0] as { x: string[]; y: number[]; marker: { color: string[] } };
  assert.deepEqual(bar.x, ['b', 'a']);
  assert.deepEqual(bar.y, [0.3, 0.01]);
  assert.deepEqual(bar.marker.color, [theme.flagged, theme.accent]);
  assert.equal((f.layout.yaxis as { type: string }).type, 'log');
});

test('QC curves: loss per step, held-out mAP on the right axis, the kept step starred; the comparison says which step was kept', () => {
  const q = qcCurves({
    lossCurve: [1.2, 1.1, 1.05, 1.0],
    heldOut: {
      images: 500,
      split: 'holdout',
      curve: [
        { step: 0, map: 0.6, map50: 0.8 },
        { step: 2, map: 0.62, map50: 0.81 },
        { step: 4, map: 0.61, map50: 0.82 },
      ],
      keptStep: 2,
    },
  });
  const f = qcCurvesFigure(q, theme)!;
  assert.deepEqual((f.data[0] as { x: number[] }).x, [1, 2, 3, 4]);
  assert.deepEqual((f.data[1] as { y: number[] }).y, [60, 62, 61]);
  assert.equal((f.data[1] as { yaxis: string }).yaxis, 'y2');
  assert.deepEqual((f.data[2] as { x: number[]; y: number[] }).x, [2]);
  assert.deepEqual((f.data[2] as { y: number[] }).y, [62]);
  assert.ok((f.layout as { yaxis2?: unknown }).yaxis2);
  // Without a held-out choice: the loss alone, one axis.
  const plain = qcCurvesFigure(qcCurves({ lossCurve: [1, 0.9] }), theme)!;
  assert.equal(plain.data.length, 1);
  assert.equal((plain.layout as { yaxis2?: unknown }).yaxis2, undefined);
  assert.equal(qcCurvesFigure({ loss: [] }, theme), undefined);
  assert.equal(keptStepSentence(q), 'QC kept step 2 of 4: the best mAP@.5:.95 on 500 held-out images (split "holdout"), never trained on (62.00).');
  assert.equal(keptStepSentence({ ...q, keptStep: 0 }), 'QC kept step 0 of 4 (no correction): the best mAP@.5:.95 on 500 held-out images (split "holdout"), never trained on (60.00).');
  const view = toComparison({ kind: 'compare', comparison: { title: 't', entries: [] }, seconds: 0 }, 'QC Correction', { qc: q });
  assert.equal(view.qc, q);
  assert.equal(view.notes![0], keptStepSentence(q));
});
