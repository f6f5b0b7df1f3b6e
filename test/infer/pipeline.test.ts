// The whole pipeline on the small fixtures: CLI, engine choice and fallback, batching, head
// layouts, limits, in-memory models, checkpoint pairing, cancellation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { CancelledError } from '../../src/core/errors';
import { quietContext } from '../../src/core/context';
import { runMap } from '../../src/core/jobs/map';
import { compareLayers } from '../../src/core/infer/pairing';
import { detectDataset, evaluateModel } from '../../src/core/infer/pipeline';

const FIX = join(__dirname, '..', 'fixtures', 'pipeline');
const ROOT = join(__dirname, '..', '..');
const YAML = join(FIX, 'data.yaml');

test('CLI: qat-lens map prints a readable report and writes --json and --dt', async () => {
  const d = mkdtempSync(join(tmpdir(), 'qatlens-map-'));
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'map', join(FIX, 'float.onnx'), '--data', YAML, '--json', join(d, 'r.json'), '--dt', join(d, 'dt.json')],
    { encoding: 'utf8', cwd: ROOT },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^engine {2}(cpu|webgpu|cuda) {2}\(ran on /m);
  assert.match(r.stdout, /Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = /);
  assert.match(r.stdout, /^disc +\d\.\d{4} +\d\.\d{4}$/m);
  assert.match(r.stdout, /^time {4}total \d+ ms \([\d.]+ images\/s\)/m);
  const res = JSON.parse(readFileSync(join(d, 'r.json'), 'utf8'));
  const dt = JSON.parse(readFileSync(join(d, 'dt.json'), 'utf8'));
  assert.equal(res.kind, 'map');
  assert.equal(res.images, 4);
  assert.equal(res.stats.length, 12);
  assert.equal(dt.length, res.detections);
  assert.deepEqual(Object.keys(dt[0]).sort(), ['bbox', 'category_id', 'image_id', 'score']);
  await assert.rejects(runMap({ model: join(FIX, 'float.onnx'), data: YAML, dtOut: YAML, engine: 'cpu', limit: 1 }, quietContext()), /data\.yaml: refusing to write over an input file/);
  rmSync(d, { recursive: true });
});

test('engine: the result records what ran; an unavailable GPU falls back to CPU and says why', async () => {
  const auto = await detectDataset(join(FIX, 'float.onnx'), YAML, { engine: 'auto' });
  assert.ok(['cpu', 'webgpu', 'cuda'].includes(auto.run.engine));
  assert.match(auto.run.engineNote, new RegExp(`^ran on ${auto.run.engine}`));
  if (auto.run.engine === 'cpu') {
    // No GPU engine here: both were tried (or known absent) and the reasons are recorded.
    assert.deepEqual(
      auto.run.skipped.map((s) => s.engine),
      ['cuda', 'webgpu'],
    );
    assert.match(auto.run.skipped[0].reason, /CUDA engine is not installed/);
    const w = await detectDataset(join(FIX, 'qdq.onnx'), YAML, { engine: 'webgpu' });
    assert.equal(w.run.engine, 'cpu');
    assert.equal(w.run.rewritten, false, 'the CPU engine runs the QDQ graph as given');
    assert.match(w.run.engineNote, /webgpu skipped: .+; webgpu was asked for but is unavailable, fell back to cpu/);
  }
  const cpu = await detectDataset(join(FIX, 'float.onnx'), YAML, { engine: 'cpu' });
  assert.deepEqual(cpu.run.skipped, []);
  assert.equal(cpu.run.engineNote, 'ran on cpu');
});

test('boxes are in original image pixels; COCO and YOLO forms, batch sizes and the cache agree', async () => {
  const a = await detectDataset(join(FIX, 'float.onnx'), YAML, { engine: 'cpu', batch: 8 });
  assert.deepEqual(a.run.input, { width: 64, height: 64, batch: 8 });
  assert.deepEqual(a.run.head, { layout: 'yolov5', anchors: 240, classes: 3 });
  const size = new Map(a.dataset.images.map((im) => [im.id, im]));
  for (const d of a.run.detections) {
    const im = size.get(d.image_id)!;
    assert.ok(d.bbox[0] >= 0 && d.bbox[1] >= 0 && d.bbox[0] + d.bbox[2] <= im.width + 1e-3 && d.bbox[1] + d.bbox[3] <= im.height + 1e-3);
    assert.ok([1, 2, 3].includes(d.category_id));
  }
  // At most 300 per image, sorted by score within each image.
  for (const id of size.keys()) {
    const s = a.run.detections.filter((d) => d.image_id === id).map((d) => d.score);
    assert.ok(s.length > 0 && s.length <= 300);
    assert.deepEqual(
      s,
      [...s].sort((x, y) => y - x),
    );
  }
  const b = await detectDataset(join(FIX, 'float.onnx'), join(FIX, 'instances_val.json'), { engine: 'cpu', batch: 1 });
  assert.deepEqual(b.run.detections, a.run.detections);
  const cache = new Map();
  const c1 = await detectDataset(join(FIX, 'float.onnx'), a.dataset, { engine: 'cpu', batch: 3, cache });
  assert.equal(cache.size, 4);
  const c2 = await detectDataset(join(FIX, 'float.onnx'), a.dataset, { engine: 'cpu', batch: 3, cache });
  assert.deepEqual(c1.run.detections, a.run.detections);
  assert.deepEqual(c2.run.detections, a.run.detections);
});

test('YOLOv8-style head: detected from the shape, scores without objectness', async () => {
  const x = new Float32Array(3 * 64 * 64).map((_, i) => (i % 97) / 97);
  const out = async (f: string) => {
    const s = await ort.InferenceSession.create(join(FIX, f));
    const r = await s.run({ images: new ort.Tensor('float32', x, [1, 3, 64, 64]) });
    return r.output0;
  };
  const v5 = await out('float.onnx'),
    v8 = await out('v8.onnx');
  assert.deepEqual(v8.dims, [1, 7, 240]);
  const p5 = v5.data as Float32Array,
    p8 = v8.data as Float32Array;
  for (let a = 0; a < 240; a += 7) {
    for (let k = 0; k < 4; k++) assert.ok(Math.abs(p8[k * 240 + a] - p5[a * 8 + k]) < 1e-4);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(p8[(4 + c) * 240 + a] - p5[a * 8 + 5 + c]) < 1e-6);
  }
  const r = await detectDataset(join(FIX, 'v8.onnx'), YAML, { engine: 'cpu' });
  assert.deepEqual(r.run.head, { layout: 'yolov8', anchors: 240, classes: 3 });
  assert.ok(r.run.detections.length > 0);
  const forced = await detectDataset(join(FIX, 'float.onnx'), YAML, { engine: 'cpu', layout: 'yolov8' }).catch((e: Error) => e);
  assert.ok(forced instanceof Error && /predicts 236 classes but the data set .* has 3/.test(forced.message));
});

test('limit, in-memory models, job result, cancellation', async () => {
  const bytes = readFileSync(join(FIX, 'float.onnx'));
  const full = await evaluateModel(join(FIX, 'float.onnx'), YAML, { engine: 'cpu' });
  const mem = await evaluateModel(new Uint8Array(bytes), YAML, { engine: 'cpu' });
  assert.deepEqual(mem.detections, full.detections);
  assert.deepEqual(mem.eval.stats, full.eval.stats);
  const lim = await runMap({ model: join(FIX, 'float.onnx'), data: YAML, engine: 'cpu', limit: 2 }, quietContext());
  assert.equal(lim.images, 2);
  assert.equal(lim.detections, full.detections.filter((d) => d.image_id <= 2).length);
  assert.ok(lim.timings.totalMs > 0 && lim.timings.inferenceMs > 0 && lim.timings.decodeMs > 0);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(evaluateModel(bytes, YAML, { engine: 'cpu' }, quietContext(ac.signal)), CancelledError);
});

test('a checkpoint runs through its paired ONNX export; layer mismatches are named', async () => {
  await assert.rejects(
    runMap({ model: join(FIX, 'model.pt'), data: YAML, engine: 'cpu' }, quietContext()),
    /model\.pt: a PyTorch checkpoint has no graph to run: give its ONNX export with --onnx FILE/,
  );
  await assert.rejects(runMap({ model: join(FIX, 'float.onnx'), onnx: join(FIX, 'qdq.onnx'), data: YAML }, quietContext()), /--onnx pairs an ONNX export with a PyTorch checkpoint/);
  const r = await runMap({ model: join(FIX, 'model.pt'), onnx: join(FIX, 'float.onnx'), data: YAML, engine: 'cpu', limit: 1 }, quietContext());
  assert.equal(r.checkpoint, join(FIX, 'model.pt'));
  assert.equal(r.model, join(FIX, 'float.onnx'));
  const L = (name: string, ...shape: number[]) => ({ name, shape });
  assert.equal(compareLayers([L('a', 8, 3, 3, 3), L('b', 4, 8, 1, 1)], [L('a', 8, 3, 3, 3), L('b', 4, 8, 1, 1)]), undefined);
  assert.equal(
    compareLayers([L('a', 8, 3, 3, 3), L('b', 4, 8, 1, 1)], [L('a', 8, 3, 3, 3), L('b', 5, 8, 1, 1)]),
    'layer b has shape [4, 8, 1, 1] in the checkpoint but [5, 8, 1, 1] in the ONNX export',
  );
  assert.equal(compareLayers([L('a', 8, 3, 3, 3), L('c', 2, 2)], [L('a', 8, 3, 3, 3)]), 'layer c is missing from the ONNX export');
  assert.equal(compareLayers([{ ...L('a', 8, 3, 3, 3), bits: 3 }], [{ ...L('a', 8, 3, 3, 3), bits: 4 }]), 'layer a is 3-bit in the checkpoint but 4-bit in the ONNX export');
  // Without common names the shapes are compared as multisets (graph order is not state_dict order).
  assert.equal(compareLayers([L('x', 8, 3, 3, 3), L('y', 2, 2)], [L('q', 2, 2), L('p', 8, 3, 3, 3)]), undefined);
  assert.equal(compareLayers([L('x', 8, 3, 3, 3), L('y', 2, 2)], [L('p', 8, 3, 3, 3), L('q', 2, 3)]), 'the checkpoint has 1 layer(s) of shape [2, 2] (e.g. y), the ONNX export 0');
});
