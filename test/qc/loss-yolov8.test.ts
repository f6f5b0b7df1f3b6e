// The TypeScript v8 detection loss (src/core/qc/loss/yolov8.ts: TaskAlignedAssigner, CIoU, DFL, BCE)
// against ultralytics' own v8DetectionLoss run by tools/fixtures/qc/make_family_loss_fixtures.py:
// value, parts and d loss / d heads from torch autograd, on raw NCHW heads [bs, 4*16 + nc, ny, nx].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { taskAlignedAssign, v8LossAssigned, yolov8Loss } from '../../src/core/qc/loss/yolov8';
import { QatLensError } from '../../src/core/errors';
import type { HeadTensor } from '../../src/core/qc/loss/types';
import { gradDiff, relClose } from '../helpers/lossHeads';

const { cases } = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'qc', 'loss', 'yolov8_cases.json'), 'utf8'));
// Of the largest gradient. The reference runs in float32 (sums over every anchor and class, the
// softmax over 16 bins): measured 3.1e-6 at most against it, 7e-7 against the same code in float64.
const GRAD_TOL = 1e-5;
const headsOf = (c: { heads: number[][]; shapes: number[][] }): HeadTensor[] => c.heads.map((v, i) => ({ data: Float32Array.from(v), shape: c.shapes[i] }));

for (const c of cases) {
  test(`v8 detection loss equals ultralytics' v8DetectionLoss: ${c.name}`, () => {
    const r = yolov8Loss({ strides: c.strides, nc: c.nc, regMax: c.regMax }).compute(headsOf(c), c.targets);
    relClose(r.loss, c.loss, 1e-5, 'loss');
    for (const k of ['lbox', 'lcls', 'ldfl']) relClose(r.parts[k], c.parts[k], 1e-5, k);
    const { max, big } = gradDiff(r.grads, c.grads);
    assert.ok(big > 0 && max <= GRAD_TOL * big, `max gradient difference ${max} (largest ${big})`);
  });
}

test('the v8 cases have positives (box and DFL losses) and one without targets', () => {
  assert.ok(cases.filter((c: { parts: { lbox: number; ldfl: number } }) => c.parts.lbox > 0 && c.parts.ldfl > 0).length >= 3);
  assert.equal(cases.find((c: { name: string }) => c.name === 'no_targets').parts.lbox, 0);
});

test('v8 detection loss gradient equals finite differences with the assignment held (DFL and classes)', () => {
  // The assigner runs on detached predictions, so d loss / d heads holds its targets fixed; finite
  // differences of the loss with the same assignment must agree. CIoU's alpha is detached too, which
  // finite differences would see, so the box gain is 0 here: the bins' gradient is then DFL's (CIoU's
  // own gradient is checked with alpha held in loss-yolov5.test.ts, the sum against torch above).
  const c = cases[1],
    cfg = { strides: c.strides, nc: c.nc, regMax: c.regMax, box: 0 };
  const heads = headsOf(c);
  const asg = taskAlignedAssign(heads, c.targets, cfg);
  const r = v8LossAssigned(heads, asg, cfg);
  const g = r.grads[0],
    plane = c.shapes[0][2] * c.shapes[0][3],
    bins = 4 * c.regMax;
  const order = [...g.keys()].sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
  const isBin = (o: number) => Math.floor(o / plane) % (bins + c.nc) < bins;
  const picks = [...order.filter(isBin).slice(0, 4), ...order.filter((o) => !isBin(o)).slice(0, 2)];
  assert.ok(g[picks[0]] !== 0 && picks.length === 6);
  for (const o of picks) {
    const d = heads[0].data,
      x0 = d[o];
    d[o] = Math.fround(x0 + 1e-3);
    const xp = d[o];
    const lp = v8LossAssigned(heads, asg, cfg).loss;
    d[o] = Math.fround(x0 - 1e-3);
    const xm = d[o];
    const lm = v8LossAssigned(heads, asg, cfg).loss;
    d[o] = x0;
    const fd = (lp - lm) / (xp - xm);
    assert.ok(Math.abs(fd - g[o]) <= 1e-5 + 1e-4 * Math.abs(fd), `offset ${o}: analytic ${g[o]} vs finite difference ${fd}`);
  }
});

test('v8 detection loss refuses heads that are not 4*regMax + nc wide', () => {
  const loss = yolov8Loss({ strides: [8], nc: 2 });
  assert.throws(
    () => loss.compute([{ data: new Float32Array(65 * 16), shape: [1, 65, 4, 4] }], []),
    (e: Error) => e instanceof QatLensError && /expected \[1, 66, ny, nx\] \(4 x 16 box bins \+ 2 classes\)/.test(e.message),
  );
});
