// The TS YOLOv5 loss against the PyTorch reference (tools/fixtures/qc/yolo_loss_ref.py) on a
// random case: value and gradient with respect to the raw head outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/core/qc/backend';
import { buildTargets, anchorsInGrid, yoloLoss, type Target } from '../src/core/qc/yoloLoss';

const c = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'qc', 'loss_case.json'), 'utf8'));
const cfg = { anchors: c.anchors, strides: c.strides, nc: c.nc, imgsz: c.imgsz };

test('YOLOv5 loss equals the PyTorch reference (value and components)', async () => {
  await selectBackend('cpu');
  const p = c.shapes.map((s: number[], i: number) => tf.tensor(c.p[i], s));
  const r = yoloLoss(p, c.targets as Target[], cfg);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  close(r.loss.dataSync()[0], c.loss, 'loss');
  close(r.lbox.dataSync()[0], c.lbox, 'lbox');
  close(r.lobj.dataSync()[0], c.lobj, 'lobj');
  close(r.lcls.dataSync()[0], c.lcls, 'lcls');
  assert.ok(c.lbox > 0 && c.lcls > 0, 'the case has matched targets');
});

test('YOLOv5 loss gradient equals PyTorch autograd', async () => {
  await selectBackend('cpu');
  const p = c.shapes.map((s: number[], i: number) => tf.tensor(c.p[i], s));
  const grads = tf.grads((...xs: tf.Tensor[]) => yoloLoss(xs, c.targets as Target[], cfg).loss)(p);
  let max = 0, scale = 0;
  grads.forEach((g, i) => {
    const v = g.dataSync();
    const ref = c.grad[i] as number[];
    for (let k = 0; k < v.length; k++) { max = Math.max(max, Math.abs(v[k] - ref[k])); scale = Math.max(scale, Math.abs(ref[k])); }
  });
  assert.ok(scale > 0);
  assert.ok(max <= 1e-5 * scale + 1e-7, `max gradient difference ${max} (largest gradient ${scale})`);
});

test('anchor matching picks neighbour cells like YOLOv5', () => {
  // One target at (0.3, 0.7) of an 8x8 grid: cell (2, 5), fractional (0.4, 0.6) -> left neighbour
  // (x frac < 0.5) and lower neighbour (y frac > 0.5): 3 cells for each anchor that fits.
  const anchors = anchorsInGrid({ anchors: [[16, 16, 200, 200]], strides: [8], nc: 1, imgsz: 64 });
  const [t] = buildTargets([[1, 2, 8, 8, 6]], [[0, 0, 0.3, 0.7, 0.25, 0.25]], anchors);
  assert.deepEqual(t.a, [0, 0, 0]); // the 200-px anchor is > 4x the 16-px box: rejected
  assert.deepEqual(t.gi, [2, 1, 2]);
  assert.deepEqual(t.gj, [5, 5, 6]);
});
