// The paired bootstrap (src/core/eval/bootstrap.ts) against the Python reference
// (tools/reference/bootstrap_ref.py on the COCOeval transcription, same Rng draws), and its
// properties: a model against itself gives [0, 0], a much better model's interval excludes 0.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootstrapMaps, containsZero, diffs, gapShares, interval95, percentile, resampleCounts } from '../../src/core/eval/bootstrap';
import { evaluateCoco, type CocoDet, type CocoGt } from '../../src/core/eval/cocoeval';
import { Rng } from '../../src/core/rng';

type Model = 'qat' | 'qc' | 'float';
interface Case {
  gt: CocoGt;
  dets: Record<Model, CocoDet[]>;
  resamples: number;
  seed: number;
  rng: { words: number[]; u32: number[] };
  firstCounts: number[];
  expected: Record<Model, { full: number[]; map: number[]; map50: number[] }> & Record<'qcMinusQat' | 'floatMinusQat' | 'gapShare', { map: number[]; map50: number[] }>;
}
const fx: Case = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'bootstrap', 'paired.json'), 'utf8'));
const TOL = 1e-12;
const models: Model[] = ['qat', 'qc', 'float'];
const evals = Object.fromEntries(models.map((m) => [m, evaluateCoco(fx.gt, fx.dets[m], { perImage: true })])) as Record<Model, ReturnType<typeof evaluateCoco>>;

function close(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= TOL, `${what}[${i}]: ${actual[i]} vs reference ${expected[i]}`);
}

test('Rng draws what the Python transcription draws', () => {
  const r = new Rng(...fx.rng.words);
  assert.deepEqual(
    Array.from({ length: 8 }, () => r.u32()),
    fx.rng.u32,
  );
  assert.deepEqual(Array.from(resampleCounts(fx.gt.images.length, 1, fx.seed)[0]), fx.firstCounts);
});

test("every resample's mAP@.5:.95 and mAP@.5 equal the reference's (to 1e-12), for each model", () => {
  const counts = resampleCounts(fx.gt.images.length, fx.resamples, fx.seed);
  const res = bootstrapMaps(
    models.map((m) => evals[m].perImage!),
    counts,
  );
  models.forEach((m, j) => {
    close([evals[m].stats[0], evals[m].stats[1]], fx.expected[m].full, `${m} full`);
    close(res[j].map, fx.expected[m].map, `${m} map`);
    close(res[j].map50, fx.expected[m].map50, `${m} map50`);
  });
  const [q, c, f] = res;
  close(interval95(diffs(c.map, q.map)), fx.expected.qcMinusQat.map, 'qc - qat map interval');
  close(interval95(diffs(c.map50, q.map50)), fx.expected.qcMinusQat.map50, 'qc - qat map50 interval');
  close(interval95(diffs(f.map, q.map)), fx.expected.floatMinusQat.map, 'float - qat map interval');
  close(interval95(gapShares(c.map, q.map, f.map)), fx.expected.gapShare.map, 'gap share interval');
  close(interval95(gapShares(c.map50, q.map50, f.map50)), fx.expected.gapShare.map50, 'gap share map50 interval');
});

test('a resample that draws every image once is the full evaluation', () => {
  const ones = [new Int32Array(fx.gt.images.length).fill(1)];
  const [r] = bootstrapMaps([evals.qc.perImage!], ones);
  assert.equal(r.map[0], evals.qc.stats[0]);
  assert.equal(r.map50[0], evals.qc.stats[1]);
});

test('a model against itself: the interval is [0, 0]; a much better model: the interval excludes 0', () => {
  const counts = resampleCounts(fx.gt.images.length, 200, 3);
  const [a, b] = bootstrapMaps([evals.qc.perImage!, evaluateCoco(fx.gt, fx.dets.qc, { perImage: true }).perImage!], counts);
  assert.deepEqual(interval95(diffs(b.map, a.map)), [0, 0]);
  assert.ok(containsZero(interval95(diffs(b.map, a.map))));
  const [q, f] = bootstrapMaps([evals.qat.perImage!, evals.float.perImage!], counts);
  const ci = interval95(diffs(f.map, q.map));
  assert.ok(ci[0] > 0.3 && !containsZero(ci), `float - qat: [${ci}]`);
  // The resampled differences spread around the full-sample difference.
  const d = evals.float.stats[0] - evals.qat.stats[0];
  assert.ok(ci[0] < d && d < ci[1], `${d} in [${ci}]`);
});

test('models scored on different images are refused', () => {
  const sub = evaluateCoco(fx.gt, fx.dets.qc, { perImage: true, imgIds: fx.gt.images.slice(1).map((i) => i.id) });
  assert.throws(() => bootstrapMaps([evals.qat.perImage!, sub.perImage!], resampleCounts(fx.gt.images.length, 2, 1)), /same images/);
});

test("percentile is numpy's linear interpolation", () => {
  const v = Float64Array.from([1, 2, 4, 8, 16]);
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile(v, 100), 16);
  assert.equal(percentile(v, 50), 4);
  assert.equal(percentile(v, 2.5), 1.1); // index 0.1
  assert.equal(percentile(v, 97.5), 15.2); // index 3.9: 16 - 8 * (1 - 0.9), as numpy.percentile
});

test('per-image evaluations stay out of JSON', () => {
  assert.equal(JSON.stringify({ x: 1, perImage: evals.qat.perImage }), '{"x":1}');
});
