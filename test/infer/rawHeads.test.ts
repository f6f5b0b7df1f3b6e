// Raw-head exports (YOLOv7 export.py without --grid: per scale [b, 3, ny, nx, 5+nc], no decode) in map,
// probe, compare: the pipeline decodes them, and the scores equal those of the same weights exported
// with their decode, exactly. Reports name the family, anchors, strides and where the anchors came from.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { quietContext } from '../../src/core/context';
import { runMap } from '../../src/core/jobs/map';
import { runProbe } from '../../src/core/jobs/probe';
import { runCompare } from '../../src/core/jobs/compare';
import { evaluateModel } from '../../src/core/infer/pipeline';

const FIX = join(__dirname, '..', 'fixtures', 'families');
const fx = (f: string) => join(FIX, f);
const DATA = fx('data');
const ROOT = join(__dirname, '..', '..');
const SPEC = '10,13,16,30,33,23/30,61,62,45,59,119/116,90,156,198,373,326';
const TRUE = [
  [10, 13, 16, 30, 33, 23],
  [30, 61, 62, 45, 59, 119],
  [116, 90, 156, 198, 373, 326],
];
const ctx = quietContext();

test("map: the raw export with --anchors scores the --grid export's mAP exactly (same weights)", async () => {
  const grid = await runMap({ model: fx('yolov7_grid.onnx'), data: DATA, engine: 'cpu' }, ctx);
  const raw = await runMap({ model: fx('yolov7_raw.onnx'), data: DATA, engine: 'cpu', anchors: SPEC }, ctx);
  const v5 = await runMap({ model: fx('yolov7_v5.onnx'), data: DATA, engine: 'cpu' }, ctx);
  assert.ok(grid.stats[1] > 0.1, `the fixture detects something (mAP@.5 ${grid.stats[1]})`);
  assert.deepEqual(raw.stats, grid.stats);
  assert.deepEqual(v5.stats, grid.stats);
  assert.equal(raw.detections, grid.detections);
  assert.deepEqual(raw.perCategory, grid.perCategory);
  // The reports: family, strides, anchors and their source.
  assert.deepEqual([grid.head.family, raw.head.family, v5.head.family], ['yolov7', 'yolov5/v7', 'yolov5']);
  for (const r of [grid, raw, v5]) {
    assert.deepEqual(r.head.strides, [8, 16, 32]);
    assert.deepEqual(r.head.anchorSizes, TRUE);
  }
  assert.equal(raw.head.anchorSource, '--anchors');
  assert.equal(raw.head.decodedBy, 'qat-lens');
  assert.match(grid.head.anchorSource!, /the graph's decode/);
  assert.equal(grid.head.decodedBy, 'graph');
});

test('the detections themselves are identical, box for box', async () => {
  const a = await evaluateModel(fx('yolov7_grid.onnx'), DATA, { engine: 'cpu', limit: 4 });
  const b = await evaluateModel(fx('yolov7_raw.onnx'), DATA, { engine: 'cpu', limit: 4, anchorSources: { flag: SPEC } });
  assert.ok(a.detections.length > 100);
  assert.deepEqual(b.detections, a.detections);
});

test('map: anchors from the paired .pt (CHECKPOINT.pt --onnx RAW.onnx) and from a model yaml', async () => {
  const r = await runMap({ model: fx('yolov7.pt'), onnx: fx('yolov7_raw.onnx'), data: DATA, engine: 'cpu', limit: 4 }, ctx);
  assert.equal(r.head.anchorSource, `the Detect module of ${fx('yolov7.pt')}`);
  assert.deepEqual(r.head.anchorSizes, TRUE);
  const y = await runMap({ model: fx('yolov7_raw.onnx'), data: DATA, engine: 'cpu', limit: 4, anchorsSetting: fx('yolov7-tiny.yaml') }, ctx);
  assert.equal(y.head.anchorSource, `the qatLens.anchors setting (${fx('yolov7-tiny.yaml')})`);
});

test('CLI: map names the yolov7 head and prints anchors, strides and their source; errors are one line', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { encoding: 'utf8', cwd: ROOT });
  const r = cli('map', fx('yolov7_grid.onnx'), '--data', DATA, '--engine', 'cpu', '--limit', '2');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /, yolov7 head, 6 classes$/m);
  assert.match(r.stdout, /^head {4}yolov7 head, 6 classes, strides 8\/16\/32, anchors 10,13,16,30,33,23 \/ 30,61,62,45,59,119 \/ 116,90,156,198,373,326 \(from the graph's decode/m);
  const bad = cli('map', fx('yolov7_raw.onnx'), '--data', DATA, '--engine', 'cpu', '--limit', '2');
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /yolov7_raw\.onnx: the model outputs raw detection heads .* --anchors W,H,W,H/);
  const wrong = cli('map', fx('yolov7_grid.onnx'), '--data', DATA, '--engine', 'cpu', '--limit', '2', '--anchors', '40,52,64,120,132,92/120,244,248,180,236,476/464,360,624,792,1492,1304');
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /disagree with those from --anchors \(40,52,64,120,132,92 \//);
});

test('probe: a raw export with its latent weights, the real file named, the Q/DQ pattern as found', async () => {
  const m = fx('yolov7_raw_latent.onnx');
  await assert.rejects(runProbe({ model: m, data: DATA, deltas: [0.1], perLayer: false, engine: 'cpu', limit: 2 }, ctx), (e: Error) =>
    e.message.startsWith(`${m}: the model outputs raw detection heads`),
  );
  const r = await runProbe({ model: m, data: DATA, deltas: [0.1], perLayer: false, engine: 'cpu', limit: 4, anchors: SPEC }, ctx);
  assert.equal(r.report.latentFrom, "the ONNX model's float weight initializers (QuantizeLinear -> DequantizeLinear)");
  assert.ok(r.report.notes.some((n) => /^head: yolov5\/v7 head \(raw outputs, decoded by QAT Lens\), 6 classes, strides 8\/16\/32/.test(n)));
  // The hard variant (its weights rounded) is the raw QDQ model: same mAP as the raw export itself.
  const raw = await evaluateModel(fx('yolov7_raw.onnx'), DATA, { engine: 'cpu', limit: 4, optimization: 'extended', anchorSources: { flag: SPEC } });
  assert.equal(r.baseline.map, raw.eval.stats[0]);
});

test('compare: raw export and the --grid export side by side with --anchors', async () => {
  const r = await runCompare({ data: DATA, qat: fx('yolov7_raw.onnx'), float: fx('yolov7_grid.onnx'), engine: 'cpu', limit: 4, anchors: SPEC }, ctx);
  const [f, q] = [r.comparison.entries.find((e) => e.role === 'float')!, r.comparison.entries.find((e) => e.role === 'qat')!];
  assert.equal(q.map, f.map);
  assert.ok((r.comparison.notes ?? []).some((n) => /head: yolov5\/v7 head \(raw outputs/.test(n)));
  assert.ok((r.comparison.notes ?? []).some((n) => /head: yolov7 head, 6 classes/.test(n)));
});
