// The precision plan's panel logic without a browser: row order, the paste-ready plan text, and
// the two figures (gain per layer, plan mAP against bytes), on a made-up report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PrecisionReport, PrecisionRow } from '../../src/core/precision/types';
import { precisionGainFigure, precisionPlanFigure } from '../../webview/charts';
import { planText, precisionRows } from '../../webview/precisionView';
import type { Theme } from '../../webview/theme';

const theme: Theme = { fg: '#111', muted: '#777', grid: '#ccc', accent: 'blue', flagged: 'red', ok: 'green', font: 'sans', highContrast: false, series: ['a', 'b', 'c'] };
const row = (name: string, gain?: number, planned = false): PrecisionRow => ({
  name,
  key: `${name}.weight_int`,
  op: 'Conv',
  shape: [8, 8, 3, 3],
  weights: 576,
  bits: 4,
  toBits: 8,
  actBits: 4,
  actToBits: 8,
  bytes: 292,
  toBytes: 608,
  bytesAdded: 316,
  macs: 1e6,
  bops: 16e6,
  toBops: 64e6,
  weightSse: 1,
  toWeightSse: 0.01,
  ...(gain === undefined ? {} : { map: 0.6 + gain, map50: 0.8, gain, gain50: gain / 2 }),
  planned,
});
const report: PrecisionReport = {
  model: '/m/qdq.onnx',
  data: '/d/data.yaml',
  latentFrom: '/m/e.pt (ema)',
  naming: 'module names of /m/e.pt',
  bits: 8,
  activations: true,
  activationsOnly: false,
  baseline: { map: 0.6, map50: 0.8 },
  float: { map: 0.65, map50: 0.85 },
  layers: [row('model.1.conv', -0.01), row('model.2.conv', 0.004, true), row('model.3.conv'), row('model.4.conv', 0.002, true)],
  skipped: ['model.0.conv'],
  firstPass: { method: 'output-change proxy', images: 8, ranked: 4, scored: 3 },
  plan: {
    mode: 'best',
    layers: ['model.2.conv', 'model.4.conv'],
    keys: ['model.2.conv.weight_int', 'model.4.conv.weight_int'],
    bytesAdded: 632,
    bytesShare: 0.1,
    macs: 2e6,
    map: 0.605,
    map50: 0.8,
    gapShare: 0.1,
    reached: undefined,
    steps: [
      { name: 'model.2.conv', bytesAdded: 316, map: 0.604, map50: 0.8, kept: true },
      { name: 'model.4.conv', bytesAdded: 632, map: 0.605, map50: 0.8, kept: true },
    ],
  },
  modelBytes: 6320,
  scaleSearch: '',
  findings: [],
  limits: [],
  notes: [],
  seconds: 1,
  scored: 6,
};

test('rows: scored layers by gain (largest first), then the unscored ones; the plan text is a JSON list of names', () => {
  assert.deepEqual(
    precisionRows(report).map((r) => r.name),
    ['model.2.conv', 'model.4.conv', 'model.1.conv', 'model.3.conv'],
  );
  assert.equal(planText(report), '["model.2.conv","model.4.conv"]');
});

test('gain figure: scored layers in model order, points, green up / red down, plan layers outlined', () => {
  const f = precisionGainFigure(report, theme)!;
  const bar = f.data[0] as { x: string[]; y: number[]; marker: { color: string[]; line: { color: string[] } } };
  assert.deepEqual(bar.x, ['model.1.conv', 'model.2.conv', 'model.4.conv']);
  assert.deepEqual(
    bar.y.map((v) => +v.toFixed(6)),
    [-1, 0.4, 0.2],
  );
  assert.deepEqual(bar.marker.color, ['red', 'green', 'green']);
  assert.deepEqual(bar.marker.line.color, ['rgba(0,0,0,0)', '#111', '#111']);
});

test('plan figure: starts at the QAT model with 0 bytes, one point per kept step, float as a line', () => {
  const f = precisionPlanFigure(report, theme);
  const plan = f.data[0] as { x: number[]; y: number[] };
  assert.deepEqual(plan.x, [0, 316, 632]);
  assert.deepEqual(
    plan.y.map((v) => +v.toFixed(6)),
    [60, 60.4, 60.5],
  );
  assert.equal((f.data[2] as { name: string }).name, 'float');
  assert.deepEqual(
    (f.data[2] as { y: number[] }).y.map((v) => +v.toFixed(6)),
    [65, 65],
  );
});
