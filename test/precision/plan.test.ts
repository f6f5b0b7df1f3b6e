// The greedy plan with a set scorer whose interactions are known, the rank correlation of the first
// pass, and the cost model (bytes, MACs from a real run of the tiny fixture).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { macsOf, outputSizes, weightBytes } from '../../src/core/precision/cost';
import { spearman } from '../../src/core/precision/firstPass';
import { greedyPlan, planOrder, type PlanCandidate } from '../../src/core/precision/plan';
import { loadPrecisionSource } from '../../src/core/precision/source';

const FIX = join(__dirname, '..', 'fixtures', 'precision');
const cands: PlanCandidate[] = [
  { key: 'a', gain: 0.01, bytesAdded: 1000 },
  { key: 'b', gain: 0.008, bytesAdded: 100 },
  { key: 'c', gain: 0.004, bytesAdded: 100 },
  { key: 'd', gain: -0.002, bytesAdded: 10 },
  { key: 'e', gain: 0.003, bytesAdded: 5000 },
];
// Base 0.50; gains add, except that a and c together cost 0.02 (a real interaction).
const scorer = (calls: string[][]) => async (keys: string[]) => {
  calls.push([...keys].sort());
  let m = 0.5 + keys.reduce((s, k) => s + cands.find((c) => c.key === k)!.gain, 0);
  if (keys.includes('a') && keys.includes('c')) m -= 0.02;
  return { map: m, map50: m + 0.3 };
};

test('order: by gain per byte for a budget, by gain otherwise; layers that lowered mAP never tried', () => {
  assert.deepEqual(
    planOrder(cands, { kind: 'target', map: 1 }).map((c) => c.key),
    ['a', 'b', 'c', 'e'],
  );
  assert.deepEqual(
    planOrder(cands, { kind: 'best' }).map((c) => c.key),
    ['a', 'b', 'c', 'e'],
  );
  assert.deepEqual(
    planOrder(cands, { kind: 'budget', bytes: 1e9 }).map((c) => c.key),
    ['b', 'c', 'a', 'e'],
  );
});

test('target mode: fewest layers reaching the target, each step re-scored as a whole', async () => {
  const calls: string[][] = [];
  const p = await greedyPlan(cands, { kind: 'target', map: 0.515 }, { map: 0.5, map50: 0.8 }, scorer(calls));
  assert.deepEqual(p.keys, ['a', 'b']);
  assert.equal(p.reached, true);
  assert.ok(Math.abs(p.map - 0.518) < 1e-12);
  assert.equal(p.bytesAdded, 1100);
  assert.deepEqual(calls, [['a'], ['a', 'b']]);
});

test('an addition that lowers the re-scored mAP is dropped (interaction), and an unreachable target says so', async () => {
  const calls: string[][] = [];
  const p = await greedyPlan(cands, { kind: 'target', map: 0.9 }, { map: 0.5, map50: 0.8 }, scorer(calls));
  assert.deepEqual(p.keys, ['a', 'b', 'e']);
  assert.equal(p.reached, false);
  assert.deepEqual(
    p.steps.map((s) => [s.key, s.kept]),
    [
      ['a', true],
      ['b', true],
      ['c', false],
      ['e', true],
    ],
  );
  assert.ok(Math.abs(p.map - 0.521) < 1e-12);
});

test('budget mode: best gain per byte within the budget; best mode takes every layer that helps', async () => {
  const b = await greedyPlan(cands, { kind: 'budget', bytes: 1200 }, { map: 0.5, map50: 0.8 }, scorer([]));
  // b, c (200 bytes), then a would fit (1200) but lowers mAP with c: dropped; e is over budget.
  assert.deepEqual(b.keys, ['b', 'c']);
  assert.equal(b.bytesAdded, 200);
  const best = await greedyPlan(cands, { kind: 'best' }, { map: 0.5, map50: 0.8 }, scorer([]));
  assert.deepEqual(best.keys, ['a', 'b', 'e']);
});

test('Spearman rank correlation (ties averaged) against hand-computed values', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // ranks x: 1,2,3,4,5; y = [2, 1, 4, 3, 5] -> 1 - 6*4/(5*24) = 0.8
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12);
  // ties: y ranks [1.5, 1.5, 3]; x ranks [1, 2, 3] -> r = 0.8660254
  assert.ok(Math.abs(spearman([1, 2, 3], [5, 5, 9]) - Math.sqrt(3) / 2) < 1e-12);
});

test('cost: packed weight bytes with scales, MACs from the measured output size (conv, depthwise)', async () => {
  assert.equal(weightBytes(27, 4, 1), 14 + 4);
  assert.equal(weightBytes(27, 3, 1), 11 + 4);
  assert.equal(weightBytes(162, 8, 6), 162 + 24);
  const src = await loadPrecisionSource(join(FIX, 'tiny_latent.onnx'));
  const sizes = await outputSizes(src.probe.model, src.layers);
  // 8x8 input, padding keeps 8x8: conv0 6x8x8, conv1 (1x1) 5x8x8, depthwise conv2 5x8x8.
  assert.deepEqual(
    src.layers.map((l) => sizes.get(l.key)),
    [384, 320, 320],
  );
  // MACs = Cout·(Cin/g)·kh·kw·Ho·Wo: 6·3·9·64, 5·6·1·64, 5·1·9·64.
  assert.deepEqual(
    src.layers.map((l) => macsOf(l, sizes.get(l.key)!)),
    [10368, 1920, 2880],
  );
});
