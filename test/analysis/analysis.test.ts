// Oscillation quantities against numpy (tools/fixtures/analysis/make_cases.py computes them
// independently): per-tensor and per-channel layers, FP16 weights, zero points, clipping, exact
// ties, tiny layers, stored integers, integers only, and a 4-checkpoint sequence with model vs ema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCheckpoints } from '../../src/core/analysis/analyzeCheckpoints';
import { logBinomialUpperTail } from '../../src/core/analysis/binomial';
import { flagLayers } from '../../src/core/analysis/flags';
import { analyzeLayer } from '../../src/core/analysis/layerStats';
import { roundHalfEven } from '../../src/core/onnx/qdq';
import { FlipTracker } from '../../src/core/analysis/sequence';
import type { Checkpoint, QuantizedLayer } from '../../src/core/model';

const cases = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'analysis', 'cases.json'), 'utf8'));

interface Case {
  name: string;
  op: string;
  note: string;
  shape: number[];
  storedDtype: string;
  latent: number[] | null;
  latent64?: boolean;
  integer: number[] | null;
  scale: number[];
  zeroPoint: number[];
  axis: number | null;
  qmin: number;
  qmax: number;
  bits: number;
  expected: null | Record<string, any>;
}

function layerOf(c: {
  name: string;
  shape: number[];
  latent?: number[] | null;
  latent64?: boolean;
  integer?: number[] | null;
  scale: number[];
  zeroPoint?: number[];
  axis: number | null;
  qmin?: number;
  qmax?: number;
  op?: string;
  storedDtype?: string;
}): QuantizedLayer {
  const qmin = c.qmin ?? -8;
  const qmax = c.qmax ?? 7;
  return {
    name: c.name,
    op: c.op ?? 'Conv',
    weight: {
      shape: c.shape,
      latent: c.latent ? (c.latent64 ? Float64Array.from(c.latent) : Float32Array.from(c.latent)) : undefined,
      integer: c.integer ? Int32Array.from(c.integer) : undefined,
      storedDtype: c.storedDtype ?? 'float32',
    },
    weightQuantizer: {
      scale: Float64Array.from(c.scale),
      zeroPoint: Float64Array.from(c.zeroPoint ?? c.scale.map(() => 0)),
      axis: c.axis,
      qmin,
      qmax,
      bits: Math.log2(qmax - qmin + 1),
      bitsSource: 'range',
      kind: 'test',
    },
  };
}

const close = (a: number | null, b: number | null, tol: number, what: string) => {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

for (const c of cases.layers as Case[]) {
  test(`layer ${c.name} (${c.note}) matches numpy`, () => {
    const layer = layerOf(c);
    const q = new Int32Array(layer.weight.shape.reduce((a, b) => a * b, 1));
    const s = analyzeLayer(layer, cases.delta, q);
    assert.equal(s.count, q.length);
    assert.equal(s.granularity, c.scale.length > 1 ? 'per-channel' : 'per-tensor');
    const e = c.expected;
    if (!e) {
      // integers only: no fractional positions, but the stored states are the integer states
      assert.equal(s.hasLatent, false);
      for (const k of ['clippedFraction', 'nearThresholdFraction', 'concentration', 'meanDistance', 'histogram', 'perChannel'] as const) assert.equal(s[k], null, k);
      assert.deepEqual(Array.from(q), c.integer);
      return;
    }
    assert.deepEqual(Array.from(q), e.q, 'integer states');
    close(s.clippedFraction, e.clippedFraction, 0, 'clippedFraction');
    assert.equal(s.inRange, e.inRange);
    close(s.nearThresholdFraction, e.nearThresholdFraction, 0, 'NT');
    close(s.concentration, e.concentration, 1e-12, 'C');
    close(s.meanDistance, e.meanDistance, 1e-12, 'mean d');
    assert.deepEqual(s.histogram, e.histogram);
    assert.equal(s.perChannel!.nearThresholdFraction.length, e.perChannelNT.length);
    s.perChannel!.nearThresholdFraction.forEach((x, i) => close(x, e.perChannelNT[i], 1e-15, `NT channel ${i}`));
    s.perChannel!.concentration.forEach((x, i) => close(x, e.perChannelC[i], 1e-12, `C channel ${i}`));
    if ('storedIntegerMismatches' in e) assert.equal(s.storedIntegerMismatches, e.storedIntegerMismatches);
  });
}

test('a tie case really has ties and the stored-integer case really disagrees', () => {
  const ties = (cases.layers as Case[]).find((c) => c.note === 'exact ties')!;
  assert.ok(ties.expected!.histogram[10] >= 18, 'ties land in the bin starting at f = 0.5');
  const stored = (cases.layers as Case[]).find((c) => c.integer && c.latent)!;
  assert.ok(stored.expected!.storedIntegerMismatches > 0);
});

test('flags, z and p-values follow the binomial rule with Bonferroni (numpy/exact integers)', () => {
  const all = (cases.layers as Case[]).map((c) => analyzeLayer(layerOf(c), cases.delta));
  flagLayers(all, { delta: cases.delta, minConcentration: cases.minConcentration, maxPValue: cases.maxPValue });
  (cases.layers as Case[]).forEach((c, i) => {
    const s = all[i];
    if (!c.expected) {
      assert.equal(s.flagged, false);
      assert.match(s.reason, /N\/A/);
      return;
    }
    assert.equal(s.flagged, c.expected.flagged, `${c.name}: ${s.reason}`);
    close(s.z, c.expected.z, 1e-12, `${c.name} z`);
    close(s.log10PValue, c.expected.log10PValue, 1e-9, `${c.name} log10 p`);
  });
  const tiny = all[(cases.layers as Case[]).findIndex((c) => c.note.startsWith('tiny'))];
  assert.ok(tiny.concentration! >= 1.5 && !tiny.flagged, 'tiny layer: high C, not flagged');
  assert.match(tiny.reason, /not significant/);
  const osc = all[(cases.layers as Case[]).findIndex((c) => c.note === 'oscillating')];
  assert.match(osc.reason, /^\d+% of weights within 0\.05 of a threshold \(\d\.\dx the even spread, z = \d+\)$/);
});

test('binomial tail agrees with exact sums at small n', () => {
  // exact: P(X >= 3 | 10, 0.1) = 0.0701908264, P(X >= 5 | 50, 0.1) = 0.5688015931709384
  close(Math.exp(logBinomialUpperTail(3, 10, 0.1)), 0.0701908264, 1e-12, 'tail 3/10');
  close(Math.exp(logBinomialUpperTail(5, 50, 0.1)), 0.5688015931709384, 1e-12, 'tail 5/50');
  assert.equal(logBinomialUpperTail(0, 10, 0.1), 0);
  close(logBinomialUpperTail(10, 10, 0.1) / Math.LN10, -10, 1e-12, 'all');
});

test('reversal counting follows the definition on a hand-made sequence', () => {
  // weight 0: 0 → 1 → 1 → 0 → 1 : changes +1, -1 (rev), +1 (rev) → 2 reversals
  // weight 1: 0 → 1 → 2 → 3 → 4 : no reversal; weight 2: 0 → 0 → -1 → -1 → 0 : -1, +1 (rev)
  const seq = [
    [0, 0, 0],
    [1, 1, 0],
    [1, 2, -1],
    [0, 3, -1],
    [1, 4, 0],
  ];
  const tr = new FlipTracker(3);
  for (const s of seq) tr.push(Int32Array.from(s));
  assert.deepEqual(tr.flipFractions, [2 / 3, 2 / 3, 2 / 3, 3 / 3]);
  assert.equal(tr.meanReversals, 3 / (3 * 4));
  assert.equal(tr.reversalShare, 2 / 3);
});

test('a sequence of 4 checkpoints: order by epoch, flips, reversals, scale movement, partial layers, model vs ema', () => {
  const seq = cases.sequence;
  const cks: Checkpoint[] = seq.checkpoints.map((ck: any) => ({
    file: ck.file,
    format: 'pytorch',
    epoch: ck.epoch,
    notes: [],
    variants: [
      {
        variant: 'model',
        layers: ck.layers.map(layerOf),
        activations: ck.activations.map((a: any) => ({ name: a.name, quantizer: layerOf({ name: a.name, shape: [1], scale: a.scale, axis: null }).weightQuantizer })),
      },
      { variant: 'ema', layers: ck.ema.map(layerOf), activations: [] },
    ],
  }));
  const r = analyzeCheckpoints(cks, { delta: cases.delta });
  const e = seq.expected;
  assert.equal(r.sequence!.orderedBy, 'epoch');
  assert.deepEqual(
    r.sequence!.order.map((o) => o.file),
    e.order,
  );
  assert.deepEqual(r.summary.files, e.order);
  for (const [name, x] of Object.entries<any>(e.layers)) {
    const l = r.sequence!.layers.find((y) => y.name === name)!;
    assert.ok(l, name);
    l.flipFractions.forEach((f, i) => close(f, x.flipFractions[i], 1e-15, `${name} flips ${i}`));
    close(l.meanReversals, x.meanReversals, 1e-15, `${name} mean reversals`);
    close(l.reversalShare, x.reversalShare, 1e-15, `${name} reversal share`);
    for (const k of ['scaleRelativeChange', 'scaleRelativeChangeMax', 'scaleTrajectory'] as const) l[k].forEach((v, i) => close(v, x[k][i], 1e-12, `${name} ${k} ${i}`));
    close(l.scaleCV, x.scaleCV, 1e-12, `${name} CV`);
    close(l.scaleCVMax, x.scaleCVMax, 1e-12, `${name} CV max`);
    assert.equal(l.concentration.length, 4);
  }
  assert.ok(
    Object.values<any>(e.layers).some((x) => x.meanReversals > 0),
    'the fixture has reversals',
  );
  const act = r.sequence!.activations.find((a) => a.name === 'act.0')!;
  act.scaleRelativeChange.forEach((v, i) => close(v, e.activation.scaleRelativeChange[i], 1e-12, 'act rel'));
  close(act.scaleCV, e.activation.scaleCV, 1e-12, 'act CV');
  assert.deepEqual(r.sequence!.partial, [{ name: e.partial.name, kind: 'layer', presentIn: e.partial.presentIn }]);
  // model vs ema in the last checkpoint
  const mve = r.modelVsEma!.find((m) => m.file === e.order[3])!;
  close(mve.flipFraction, e.modelVsEma.flipFraction, 1e-15, 'model vs ema');
  for (const l of mve.layers) close(l.flipFraction, e.modelVsEma.layers[l.name], 1e-15, `mve ${l.name}`);
  for (const l of r.layers) if (l.name in e.modelVsEma.layers) close(l.modelVsEmaFlipFraction!, e.modelVsEma.layers[l.name], 1e-15, 'on layer');
  assert.equal(r.modelVsEma!.length, 4);
});

test('bad quantizers are named', () => {
  const bad = layerOf({ name: 'x.conv', shape: [2, 3], latent: [0, 0, 0, 0, 0, 0], scale: [0.1, 0.2, 0.3], axis: 0 });
  assert.throws(() => analyzeLayer(bad, 0.05), /layer "x\.conv": 3 per-channel scales along axis 0 do not fit shape \[2, 3\]/);
  const zero = layerOf({ name: 'y', shape: [2], latent: [0, 0], scale: [0], axis: null });
  assert.throws(() => analyzeLayer(zero, 0.05), /layer "y": scale 0 is 0/);
  const ck: Checkpoint = { file: 'run/bad.pt', format: 'pytorch', notes: [], variants: [{ variant: 'model', layers: [bad], activations: [] }] };
  assert.throws(() => analyzeCheckpoints([ck]), /^QatLensError: run\/bad\.pt: layer "x\.conv": 3 per-channel scales/);
});

test('near threshold is strict: d = δ exactly does not count', () => {
  // s = 1: f = 0.25, 0.75 give d = 0.25 = δ (not near); f = 0.5 gives d = 0; f = 0 gives d = 0.5
  const l = layerOf({ name: 'edge', shape: [4], latent: [1.25, -2.25, 3.5, 2], scale: [1], axis: null });
  const s = analyzeLayer(l, 0.25);
  assert.equal(s.nearThresholdFraction, 1 / 4);
  assert.equal(s.concentration, 0.5);
  assert.equal(s.meanDistance, (0.25 + 0.25 + 0 + 0.5) / 4);
  assert.deepEqual(
    s.histogram!.map((x, i) => [i, x]).filter(([, x]) => x > 0),
    [
      [0, 1],
      [5, 1],
      [10, 1],
      [15, 1],
    ],
  );
});

test('flag settings are honoured: a looser p-value flags the tiny layer, a higher concentration unflags', () => {
  const layers = (cases.layers as Case[]).map((c) => analyzeLayer(layerOf(c), cases.delta));
  const tinyIdx = (cases.layers as Case[]).findIndex((c) => c.note.startsWith('tiny'));
  flagLayers(layers, { delta: cases.delta, minConcentration: 1.5, maxPValue: 0.2 });
  assert.equal(layers[tinyIdx].flagged, true, layers[tinyIdx].reason);
  flagLayers(layers, { delta: cases.delta, minConcentration: 5, maxPValue: 0.2 });
  assert.equal(layers[tinyIdx].flagged, false);
  assert.match(layers[tinyIdx].reason, /below the 5x flag level/);
  const ck: Checkpoint = { file: 'x.pt', format: 'pytorch', notes: [], variants: [{ variant: 'state_dict', layers: (cases.layers as Case[]).map(layerOf), activations: [] }] };
  const r = analyzeCheckpoints([ck], { minConcentration: 1.5, maxPValue: 0.2 });
  assert.equal(r.layers[tinyIdx].flagged, true);
  assert.equal(r.summary.flaggedCount, r.layers.filter((l) => l.flagged).length);
  assert.deepEqual(r.settings, { delta: 0.05, minConcentration: 1.5, maxPValue: 0.2, bits: null });
});

test('layers match across formats without ".weight"/"_int" suffixes (checkpoint vs its exported integers)', () => {
  // latent weights of a PyTorch layer, and the integers an exporter wrote for it (one changed)
  const latent = [0.26, -0.14, 0.05, 0.31, -0.33, 0.12];
  const pt = layerOf({ name: 'model.1.conv', shape: [2, 3], latent, scale: [0.1], axis: null });
  const ints = latent.map((w) => roundHalfEven(Math.fround(w) / 0.1)); // latent weights are float32
  ints[4] += 1;
  const onnx = layerOf({ name: 'model.1.conv.weight_int', shape: [2, 3], integer: ints, scale: [0.1], axis: null });
  const other = layerOf({ name: 'model.2.conv.weight', shape: [1], latent: [0.1], scale: [0.1], axis: null });
  const cks: Checkpoint[] = [
    { file: 'a/epoch_28.pt', format: 'pytorch', notes: [], variants: [{ variant: 'model', layers: [pt], activations: [] }] },
    { file: 'a/qdq.onnx', format: 'onnx', notes: [], variants: [{ variant: 'graph', layers: [onnx, other], activations: [] }] },
  ];
  const r = analyzeCheckpoints(cks);
  assert.equal(r.sequence!.orderedBy, 'name');
  assert.deepEqual(
    r.sequence!.layers.map((l) => [l.name, l.flipFractions]),
    [['model.1.conv.weight_int', [1 / 6]]],
  );
  assert.deepEqual(r.sequence!.partial, [{ name: 'model.2.conv.weight', kind: 'layer', presentIn: ['a/qdq.onnx'] }]);
  assert.ok(
    r.summary.notes.some((n) => n.includes('"model.1.conv.weight_int" = "model.1.conv"') || n.includes('"model.1.conv" = "model.1.conv.weight_int"')),
    r.summary.notes.join('\n'),
  );
});
