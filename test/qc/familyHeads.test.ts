// QC on the YOLO families' exports (tools/fixtures/families/): heads and the true anchors of the
// yolov7 --grid export (not the 4x operand of its wh Mul), the family's own loss (YOLOv7:
// ComputeLossOTA, YOLOv8: v8DetectionLoss), step-1 losses equal across export forms of the same
// weights under the same loss, and a corrected YOLOv8 model whose integer weights are unchanged.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { quietContext } from '../../src/core/context';
import { runCorrect } from '../../src/core/jobs/correct';
import { indexGraph } from '../../src/core/onnx/graph';
import { loadModel } from '../../src/core/onnx/proto';
import { findHeads, findQuantLayers } from '../../src/core/qc/heads';
import { lossFor } from '../../src/core/qc/loss';
import { resolveCalibration } from '../../src/core/qc/runQC';
import { calibSource } from '../../src/core/qc/train';
import { createGradEngine } from '../../src/core/train/engine';

const FIX = join(__dirname, '..', 'fixtures', 'families');
const fx = (f: string) => join(FIX, f);
const DATA = fx('data');
const TRUE = [
  [10, 13, 16, 30, 33, 23],
  [30, 61, 62, 45, 59, 119],
  [116, 90, 156, 198, 373, 326],
];
const SPEC = '10,13,16,30,33,23/30,61,62,45,59,119/116,90,156,198,373,326';
const tmp = mkdtempSync(join(tmpdir(), 'qc-families-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const correct1 = async (model: string, extra: { anchors?: string; loss?: 'yolov5' | 'yolov7' | 'yolov8' } = {}, tag = '') => {
  const out = join(tmp, `${model}${tag}.qc.onnx`);
  const r = await runCorrect({ model: fx(model), data: DATA, out, steps: 1, batch: 2, calibCount: 2, engine: 'cpu', evaluate: false, ...extra }, quietContext());
  assert.ok(existsSync(out));
  return { r, out };
};

test('findHeads on the yolov7 --grid export: the true anchors, strides 8/16/32, family yolov7', async () => {
  const h = await findHeads(loadModel(fx('yolov7_grid.onnx')), fx('yolov7_grid.onnx'), [320, 320]);
  assert.deepEqual(h.anchors, TRUE);
  assert.deepEqual(h.strides, [8, 16, 32]);
  assert.equal(h.family, 'yolov7');
  assert.equal(h.nc, 6);
});

test('correct: yolov7 trains with ComputeLossOTA; step-1 losses equal across export forms under the same loss', async () => {
  const grid = (await correct1('yolov7_grid.onnx')).r;
  assert.deepEqual(grid.heads.anchors, TRUE);
  assert.match(grid.heads.anchorSource, /decode/);
  assert.match(grid.objective, /ComputeLossOTA/);
  // The raw export (anchors from --anchors) with YOLOv7's loss: the same step-1 loss.
  const raw = (await correct1('yolov7_raw.onnx', { anchors: SPEC, loss: 'yolov7' })).r;
  assert.equal(raw.heads.anchorSource, '--anchors');
  assert.equal(raw.lossCurve[0], grid.lossCurve[0]);
  // YOLOv5's decode form (YOLOv5's loss by default) == the --grid export with --loss yolov5: its anchors are read right.
  const v5 = (await correct1('yolov7_v5.onnx')).r;
  assert.match(v5.objective, /ComputeLoss:/);
  const gridV5 = (await correct1('yolov7_grid.onnx', { loss: 'yolov5' }, '-v5loss')).r;
  assert.equal(gridV5.lossCurve[0], v5.lossCurve[0]);
  assert.ok(Math.abs(grid.lossCurve[0] - v5.lossCurve[0]) > 1e-6, 'OTA and YOLOv5 losses differ on this batch');
  await assert.rejects(correct1('yolov7_grid.onnx', { loss: 'yolov8' }, '-bad'), /--loss yolov8 does not fit the model's yolov7 head \(anchor-based\)/);
});

test("correct on the YOLOv8-style export: v8 loss at step 1 equals the loss on the engine's heads; integers bit-identical", async () => {
  const { r, out } = await correct1('yolov8.onnx');
  assert.equal(r.heads.family, 'yolov8');
  assert.match(r.objective, /v8 detection loss/);
  // Reference: the v8 loss (checked against ultralytics' code in test/qc/loss-yolov8.test.ts) on the
  // heads the training engine computes at γ = 1, β = 0 for the same two calibration images.
  const model = loadModel(fx('yolov8.onnx'));
  const heads = await findHeads(model, fx('yolov8.onnx'), [320, 320]);
  const layers = findQuantLayers(indexGraph(model.graph!));
  const calib = await resolveCalibration(DATA, undefined, 2);
  const b = await calibSource(calib.images, [320, 320]).batch([0, 1]);
  const engine = await createGradEngine(model, fx('yolov8.onnx'), { engine: 'cpu', layers, heads: heads.outputs, imgsz: [320, 320] });
  try {
    const outs = await engine.forward(
      b.images,
      2,
      layers.map((l) => new Float32Array(l.channels).fill(1)),
      layers.map((l) => new Float32Array(l.channels)),
    );
    const ht = outs.map((data, i) => ({ data, shape: [2, data.length / (2 * (320 / heads.strides[i]) ** 2), 320 / heads.strides[i], 320 / heads.strides[i]] }));
    assert.deepEqual(
      ht.map((h) => h.shape[1]),
      [70, 70, 70],
    );
    const ref = lossFor('yolov8', { strides: heads.strides, nc: 6, regMax: 16 }).compute(ht, b.targets).loss;
    assert.ok(ref > 0);
    assert.ok(Math.abs(r.lossCurve[0] - ref) <= 1e-5 * ref, `${r.lossCurve[0]} vs ${ref}`);
  } finally {
    await engine.dispose();
  }
  // Integer weights bit-identical, layer for layer.
  const ints = (m: ReturnType<typeof loadModel>) =>
    new Map((m.graph!.initializer ?? []).filter((t) => t.dataType === 3).map((t) => [t.name!, Buffer.from(t.rawData ?? new Uint8Array()).toString('hex')]));
  const a = ints(model),
    c = ints(loadModel(out));
  assert.ok(a.size >= 40);
  for (const [name, hex] of a) if (name.endsWith('_int')) assert.equal(c.get(name), hex, name);
});
