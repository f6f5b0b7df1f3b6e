// The TypeScript YOLOv7 loss (src/core/qc/loss/yolov7.ts, ComputeLossOTA) against the original
// WongKinYiu/yolov7 code run by tools/fixtures/qc/make_family_loss_fixtures.py: value, parts and
// d loss / d heads from torch autograd, on NCHW heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { yolov7Loss, otaTargets } from '../../src/core/qc/loss/yolov7';
import { yolov5Loss } from '../../src/core/qc/loss/yolov5';
import { anchorsInGrid, buildTargets } from '../../src/core/qc/loss/anchorMatch';
import { anchorHeadShapes } from '../../src/core/qc/loss/anchorLoss';
import type { HeadTensor } from '../../src/core/qc/loss/types';
import { gradDiff, relClose } from '../helpers/lossHeads';

const { cases } = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'qc', 'loss', 'yolov7_cases.json'), 'utf8'));
const GRAD_TOL = 2e-6; // of the largest gradient; float32 torch vs float64 here
const headsOf = (c: { heads: number[][]; shapes: number[][] }): HeadTensor[] => c.heads.map((v, i) => ({ data: Float32Array.from(v), shape: c.shapes[i] }));
const cfgOf = (c: { anchors: number[][]; strides: number[]; nc: number; imgsz: number }) => ({ anchors: c.anchors, strides: c.strides, nc: c.nc, imgsz: c.imgsz });

for (const c of cases) {
  test(`YOLOv7 OTA loss equals the original ComputeLossOTA: ${c.name}`, () => {
    const heads = headsOf(c),
      cfg = cfgOf(c);
    const anchors = anchorsInGrid(cfg);
    const shapes = anchorHeadShapes(heads, c.targets, anchors, c.nc);
    const chosen = otaTargets(heads, shapes, c.targets, buildTargets(shapes, c.targets, anchors), cfg);
    assert.deepEqual(
      chosen.map((s) => s.b.length),
      c.matched,
      'matches per scale',
    );
    const r = yolov7Loss(cfg).compute(heads, c.targets);
    relClose(r.loss, c.loss, 1e-5, 'loss');
    for (const k of ['lbox', 'lobj', 'lcls']) relClose(r.parts[k], c.parts[k], 1e-5, k);
    const { max, big } = gradDiff(r.grads, c.grads);
    assert.ok(big > 0 && max <= GRAD_TOL * big, `max gradient difference ${max} (largest ${big})`);
  });
}

test("the OTA assignment is not YOLOv5's: fewer matched cells, a different loss", () => {
  const c = cases[0],
    heads = headsOf(c),
    cfg = cfgOf(c);
  const anchors = anchorsInGrid(cfg);
  const shapes = anchorHeadShapes(heads, c.targets, anchors, c.nc);
  const all = buildTargets(shapes, c.targets, anchors).reduce((s, t) => s + t.b.length, 0);
  assert.ok(c.matched.reduce((s: number, x: number) => s + x, 0) < all);
  assert.ok(Math.abs(yolov5Loss(cfg).compute(heads, c.targets).loss - c.loss) > 1e-3);
});
