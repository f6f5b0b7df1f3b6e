// QC on the YOLO families' exports (tools/fixtures/families/): the yolov7 --grid export trains with
// the true anchors (not the 4x operand of its wh Mul), its step-1 loss equals that of the same weights
// with YOLOv5's decode form and of the raw export given --anchors; anchor-free heads are refused
// with a clear error until their loss is wired into QC.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { quietContext } from '../../src/core/jobs/context';
import { runCorrect } from '../../src/core/jobs/correct';
import { selectBackend } from '../../src/core/qc/backend';
import { findHeads } from '../../src/core/qc/heads';
import { TfGraph } from '../../src/core/qc/tfGraph';

const FIX = join(__dirname, '..', 'fixtures', 'families');
const fx = (f: string) => join(FIX, f);
const DATA = fx('data');
const TRUE = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]];
const SPEC = '10,13,16,30,33,23/30,61,62,45,59,119/116,90,156,198,373,326';
const tmp = mkdtempSync(join(tmpdir(), 'qc-families-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('findHeads on the yolov7 --grid export: the true anchors, strides 8/16/32, family yolov7', async () => {
  await selectBackend('cpu');
  const g = TfGraph.load(fx('yolov7_grid.onnx'));
  try {
    const h = await findHeads(g, [320, 320]);
    assert.deepEqual(h.anchors, TRUE);
    assert.deepEqual(h.strides, [8, 16, 32]);
    assert.equal(h.family, 'yolov7');
    assert.equal(h.nc, 6);
  } finally {
    g.dispose();
  }
});

test('correct: step-1 loss of the yolov7 --grid export == YOLOv5-decode form == raw export with --anchors', async () => {
  const run = async (model: string, anchors?: string) => {
    const out = join(tmp, `${model}.qc.onnx`);
    const r = await runCorrect({ model: fx(model), data: DATA, out, steps: 1, batch: 2, calibCount: 2, backend: 'cpu', evaluate: false, anchors }, quietContext());
    assert.ok(existsSync(out));
    return r;
  };
  const grid = await run('yolov7_grid.onnx');
  const v5 = await run('yolov7_v5.onnx');
  const raw = await run('yolov7_raw.onnx', SPEC);
  assert.deepEqual(grid.heads.anchors, TRUE);
  assert.match(grid.heads.anchorSource, /decode/);
  assert.equal(raw.heads.anchorSource, '--anchors');
  assert.ok(grid.lossCurve[0] > 0);
  assert.equal(v5.lossCurve[0], grid.lossCurve[0]);
  assert.equal(raw.lossCurve[0], grid.lossCurve[0]);
});

test('correct: an anchor-free (YOLOv8) head is refused with a clear error, nothing written', async () => {
  const out = join(tmp, 'v8.qc.onnx');
  await assert.rejects(runCorrect({ model: fx('yolov8.onnx'), data: DATA, out, steps: 1, batch: 1, calibCount: 1, backend: 'cpu', evaluate: false }, quietContext()),
    /yolov8\.onnx: the model has an anchor-free yolov8 head \(DFL, reg_max 16\)/);
  assert.ok(!existsSync(out));
});
