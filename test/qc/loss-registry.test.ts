// lossFor maps a head family to its loss: the same numbers as the family's own factory, and the
// three families give three different losses on the same targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lossFor } from '../../src/core/qc/loss';
import { yolov7Loss } from '../../src/core/qc/loss/yolov7';
import { yolov8Loss } from '../../src/core/qc/loss/yolov8';
import { QatLensError } from '../../src/core/errors';
import type { HeadTensor } from '../../src/core/qc/loss/types';

const fx = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'qc', 'loss', name), 'utf8'));
const headsOf = (c: { heads: number[][]; shapes: number[][] }): HeadTensor[] => c.heads.map((v, i) => ({ data: Float32Array.from(v), shape: c.shapes[i] }));

test('lossFor gives each family its own loss', () => {
  const c7 = fx('yolov7_cases.json').cases[0],
    c8 = fx('yolov8_cases.json').cases[0];
  const cfg7 = { anchors: c7.anchors, strides: c7.strides, nc: c7.nc, imgsz: c7.imgsz };
  const v5 = lossFor('yolov5', cfg7),
    v7 = lossFor('yolov7', cfg7),
    v8 = lossFor('yolov8', { strides: c8.strides, nc: c8.nc });
  assert.deepEqual([v5.family, v7.family, v8.family], ['yolov5', 'yolov7', 'yolov8']);
  const h7 = headsOf(c7);
  assert.equal(v7.compute(h7, c7.targets).loss, yolov7Loss(cfg7).compute(h7, c7.targets).loss);
  assert.notEqual(v5.compute(h7, c7.targets).loss, v7.compute(h7, c7.targets).loss);
  const h8 = headsOf(c8);
  assert.equal(v8.compute(h8, c8.targets).loss, yolov8Loss({ strides: c8.strides, nc: c8.nc }).compute(h8, c8.targets).loss);
});

test('lossFor refuses an anchor-based family without anchors', () => {
  assert.throws(
    () => lossFor('yolov7', { strides: [8], nc: 2 }),
    (e: Error) => e instanceof QatLensError && /yolov7 heads need anchors/.test(e.message),
  );
});
