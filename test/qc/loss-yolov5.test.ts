// The TypeScript YOLOv5 loss (src/core/qc/loss/yolov5.ts) on NCHW heads: value and d loss / d heads
// against PyTorch autograd (tools/fixtures/qc/make_loss_fixtures.py, the older loss_case.json and the
// example's own ComputeLoss in tools/example/loss_reference.json) and against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ciou } from '../../src/core/qc/loss/ciou';
import { yolov5Loss } from '../../src/core/qc/loss/yolov5';
import { QatLensError } from '../../src/core/errors';
import type { HeadTensor } from '../../src/core/qc/loss/types';
import { gradDiff, relClose, toNCHW } from '../helpers/lossHeads';

const fx = (...p: string[]) => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'qc', ...p), 'utf8'));
const cases = fx('loss', 'yolov5_cases.json');
// float32 torch vs float64 here: summation-order and rounding noise only.
const GRAD_TOL = 2e-6;

for (const c of cases) {
  test(`YOLOv5 loss equals PyTorch autograd: ${c.name}`, () => {
    const heads: HeadTensor[] = c.heads.map((v: number[], i: number) => ({ data: Float32Array.from(v), shape: c.shapes[i] }));
    const r = yolov5Loss({ anchors: c.anchors, strides: c.strides, nc: c.nc, imgsz: c.imgsz }).compute(heads, c.targets);
    relClose(r.loss, c.loss, 1e-5, 'loss');
    for (const k of ['lbox', 'lobj', 'lcls']) relClose(r.parts[k], c.parts[k], 1e-5, k);
    const { max, big } = gradDiff(r.grads, c.grads);
    assert.ok(big > 0);
    assert.ok(max <= GRAD_TOL * big, `max gradient difference ${max} (largest ${big})`);
  });
}

test('the cases exercise what they are named for', () => {
  const byName = Object.fromEntries(cases.map((c: { name: string }) => [c.name, c]));
  assert.ok(byName.duplicates.matches[0] > 0 && byName.random.parts.lcls > 0);
  assert.equal(byName.nc1_two_scales.parts.lcls, 0);
  assert.deepEqual(byName.no_match.matches, [0, 0, 0]);
  assert.equal(byName.no_match.parts.lbox, 0);
  assert.ok(byName.no_match.targets.length > 0 && byName.no_targets.targets.length === 0);
});

test("YOLOv5 loss equals the older fixture and the example's ComputeLoss (value and gradient)", () => {
  const old = fx('loss_case.json');
  const ex = JSON.parse(readFileSync(join(__dirname, '..', '..', 'tools', 'example', 'loss_reference.json'), 'utf8'));
  const refs = [
    { p: old.p, shapes: old.shapes, grad: old.grad, targets: old.targets, loss: old.loss, anchors: old.anchors, strides: old.strides, nc: old.nc, imgsz: old.imgsz },
    {
      p: ex.p,
      shapes: ex.p_shapes,
      grad: ex.grad,
      targets: ex.targets,
      loss: ex.loss,
      strides: ex.strides,
      nc: ex.nc,
      imgsz: ex.imgsz_for_gains,
      anchors: ex.anchors_grid_units.map((s: number[][], i: number) => s.flat().map((v) => v * ex.strides[i])),
    },
  ];
  for (const c of refs) {
    const r = yolov5Loss({ anchors: c.anchors, strides: c.strides, nc: c.nc, imgsz: c.imgsz }).compute(
      c.p.map((v: number[], i: number) => toNCHW(v, c.shapes[i])),
      c.targets,
    );
    relClose(r.loss, c.loss, 1e-5, 'loss');
    const ref = c.grad.map((g: number[], i: number) => toNCHW(g, c.shapes[i]).data);
    const { max, big } = gradDiff(r.grads, ref);
    assert.ok(big > 0 && max <= GRAD_TOL * big, `max gradient difference ${max} (largest ${big})`);
  }
});

test('YOLOv5 loss gradient equals finite differences on objectness and class logits', () => {
  // Box logits also move the detached obj target, so finite differences see more than autograd
  // there; those are checked through ciou below and by the PyTorch cases above.
  const c = cases[1];
  const loss = yolov5Loss({ anchors: c.anchors, strides: c.strides, nc: c.nc, imgsz: c.imgsz });
  const heads: HeadTensor[] = c.heads.map((v: number[], i: number) => ({ data: Float32Array.from(v), shape: c.shapes[i] }));
  const r = loss.compute(heads, c.targets);
  const no = c.nc + 5,
    [, , ny, nx] = c.shapes[0],
    plane = ny * nx;
  // Matched cells have non-zero class gradients; take three of them and a few obj logits.
  const picks: number[] = [];
  for (let o = 0; o < r.grads[0].length && picks.length < 3; o++) if (Math.floor(o / plane) % no >= 5 && r.grads[0][o] !== 0) picks.push(o);
  picks.push(4 * plane + 10, (no + 4) * plane + 3, (3 * no + 4) * plane + 27);
  assert.equal(picks.length, 6);
  for (const o of picks) {
    const d = heads[0].data,
      x0 = d[o];
    d[o] = Math.fround(x0 + 1e-2);
    const xp = d[o];
    const lp = loss.compute(heads, c.targets).loss;
    d[o] = Math.fround(x0 - 1e-2);
    const xm = d[o];
    const lm = loss.compute(heads, c.targets).loss;
    d[o] = x0;
    const fd = (lp - lm) / (xp - xm);
    assert.ok(Math.abs(fd - r.grads[0][o]) <= 1e-6 + 1e-4 * Math.abs(fd), `offset ${o}: analytic ${r.grads[0][o]} vs finite difference ${fd}`);
  }
});

test('ciou gradient equals finite differences (alpha held fixed, as the originals detach it)', () => {
  // An independent float64 CIoU with alpha given, for the finite differences.
  const K = 4 / Math.PI ** 2,
    eps = 1e-7;
  const plain = (p: number[], t: number[], alpha?: number) => {
    const [x1, x2, y1, y2, w, h] = p,
      [u1, u2, v1, v2, tw, th] = t;
    const inter = Math.max(Math.min(x2, u2) - Math.max(x1, u1), 0) * Math.max(Math.min(y2, v2) - Math.max(y1, v1), 0);
    const iou = inter / (w * h + tw * th - inter + eps);
    const c2 = (Math.max(x2, u2) - Math.min(x1, u1)) ** 2 + (Math.max(y2, v2) - Math.min(y1, v1)) ** 2 + eps;
    const rho2 = ((u1 + u2 - x1 - x2) ** 2 + (v1 + v2 - y1 - y2) ** 2) / 4;
    const v = K * (Math.atan(tw / th) - Math.atan(w / h)) ** 2;
    const a = alpha ?? v / (v - iou + 1 + eps);
    return { value: iou - rho2 / c2 - v * a, alpha: a };
  };
  const boxes: [number[], number[]][] = [
    [
      [0.1, 1.3, 0.2, 0.9, 1.2, 0.7],
      [0.4, 1.0, -0.1, 1.5, 0.6, 1.6],
    ], // overlapping
    [
      [0, 0.5, 0, 2, 0.5, 2],
      [1, 3, 1, 1.5, 2, 0.5],
    ], // disjoint
    [
      [-0.2, 2.2, -0.1, 1.9, 2.4, 2.0],
      [0.3, 1.1, 0.4, 1.0, 0.8, 0.6],
    ], // t inside p
  ];
  for (const [p, t] of boxes) {
    const g = new Float64Array(6);
    const value = ciou(p, t, g);
    const { value: ref, alpha } = plain(p, t);
    assert.ok(Math.abs(value - ref) < 1e-12);
    for (let k = 0; k < 6; k++) {
      const h = 1e-6,
        pp = [...p],
        pm = [...p];
      pp[k] += h;
      pm[k] -= h;
      const fd = (plain(pp, t, alpha).value - plain(pm, t, alpha).value) / (2 * h);
      assert.ok(Math.abs(fd - g[k]) < 1e-7, `box ${p} input ${k}: analytic ${g[k]} vs ${fd}`);
    }
  }
});

test('YOLOv5 loss refuses heads that do not fit the config, naming the shapes', () => {
  const loss = yolov5Loss({ anchors: [[10, 13, 16, 30]], strides: [8], nc: 2, imgsz: 64 });
  assert.throws(
    () => loss.compute([{ data: new Float32Array(2 * 12 * 16), shape: [2, 12, 4, 4] }], []),
    (e: Error) => e instanceof QatLensError && /head 0 has shape \[2,12,4,4\], expected \[2, 14, ny, nx\]/.test(e.message),
  );
  assert.throws(
    () => loss.compute([{ data: new Float32Array(2 * 14 * 16), shape: [2, 14, 4, 4] }], [[2, 0, 0.5, 0.5, 0.1, 0.1]]),
    (e: Error) => e instanceof QatLensError && /image 2 of a batch of 2/.test(e.message),
  );
});
