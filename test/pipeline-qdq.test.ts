// The QDQ -> float fake-quant rewrite for GPU engines, proven against the QDQ graph on the CPU
// engine, and both against PyTorch's own forward passes (test/fixtures/pipeline/reference.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { detectDataset, evaluateModel } from '../src/core/infer/pipeline';
import { hasQdq, rewriteQdqToFloat } from '../src/core/infer/qdqToFloat';
import { DataType, loadModel, makeTensor, onnx } from '../src/core/onnx/proto';
import { runTies, TIES_A, tiesModel } from './qdqTiesModel';

const FIX = join(__dirname, 'fixtures', 'pipeline');
const ref = JSON.parse(readFileSync(join(FIX, 'reference.json'), 'utf8')) as { shape: number[]; outShape: number[]; float: number[]; qdq: number[] };

function refInput(): Float32Array {
  const n = ref.shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 1000) / 1000;
  return x;
}

async function run(model: string | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model as Uint8Array, { executionProviders: ['cpu'] });
  const r = await s.run(feeds);
  await s.release();
  return r[s.outputNames[0]].data as Float32Array;
}

/** Largest |a - b| / max(1, |b|): the reference holds 7 significant digits. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

const bytesOf = (m: onnx.IModelProto) => onnx.ModelProto.encode(m).finish();

test('float and QDQ fixtures on onnxruntime CPU match PyTorch', async () => {
  const feeds = { images: new ort.Tensor('float32', refInput(), ref.shape) };
  assert.ok(relDiff(await run(join(FIX, 'float.onnx'), feeds), ref.float) < 1e-5);
  const q = await run(join(FIX, 'qdq.onnx'), feeds);
  assert.ok(relDiff(q, ref.qdq) < 1e-5);
  assert.ok(relDiff(q, ref.float) > 1e-3, '4-bit quantization must change the output');
});

test('QDQ -> float rewrite: no Q/DQ left, outputs equal to the QDQ graph on CPU', async () => {
  const qdq = loadModel(join(FIX, 'qdq.onnx'));
  const { model, stats } = rewriteQdqToFloat(qdq, 'qdq.onnx');
  assert.deepEqual(stats, { weights: 6, activations: 6 });
  assert.ok(hasQdq(qdq));
  assert.ok(!hasQdq(model));
  const ops = model.graph!.node!.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'Round').length, 6);
  const adds = (ops: (string | null | undefined)[]) => ops.filter((o) => o === 'Add').length;
  // The uint8 input pair's zero point (equal in Q and DQ) moves into its Clip bounds: no Add/Sub.
  assert.equal(adds(ops) - adds(qdq.graph!.node!.map((n) => n.opType)), 0, 'equal zero points need no Add');
  assert.ok(!model.graph!.initializer!.some((t) => t.dataType === DataType.INT8 || t.dataType === DataType.UINT8));
  const feeds = { images: new ort.Tensor('float32', refInput(), ref.shape) };
  const a = await run(join(FIX, 'qdq.onnx'), feeds);
  const b = await run(bytesOf(model), feeds);
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
  assert.ok(maxAbs <= 1e-5, `max |QDQ - rewrite| = ${maxAbs}`);
  assert.ok(relDiff(b, ref.qdq) < 1e-5);
  // The input model is not modified.
  assert.ok(loadModel(join(FIX, 'qdq.onnx')).graph!.node!.length === qdq.graph!.node!.length);
});

test('rewrite keeps half-to-even ties, zero points, Clip ranges and per-axis weights', async () => {
  const model = tiesModel();
  const [qa, qb] = await runTies(model);
  const { model: fm, stats } = rewriteQdqToFloat(model);
  assert.deepEqual(stats, { weights: 1, activations: 2 });
  const [fa, fb] = await runTies(fm);
  assert.deepEqual(qa, TIES_A);
  assert.deepEqual(fa, qa);
  assert.deepEqual(fb, qb);
  // Rounding by adding and subtracting 1.5 * 2^23 gives the same ties (and 100 / .5 = 200 still clips).
  const [ma, mb] = await runTies(rewriteQdqToFloat(model, 'ties', { round: 'magic' }).model);
  assert.deepEqual(ma, qa);
  assert.deepEqual(mb, qb);
});

test('rewrite refuses what it cannot express, naming the node', () => {
  const T = (name: string, v: number[], dt: number) => makeTensor(name, [], v, dt);
  const graph = onnx.GraphProto.create({
    name: 'g',
    input: [onnx.ValueInfoProto.create({ name: 'x', type: { tensorType: { elemType: 1 } } })],
    output: [onnx.ValueInfoProto.create({ name: 'q', type: { tensorType: { elemType: 3 } } })],
    initializer: [T('s', [0.5], DataType.FLOAT), T('z', [0], DataType.INT8)],
    node: [onnx.NodeProto.create({ opType: 'QuantizeLinear', input: ['x', 's', 'z'], output: ['q'], name: 'quant_out' })],
  });
  const m = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph });
  assert.throws(() => rewriteQdqToFloat(m, 'm.onnx'), /m\.onnx: QuantizeLinear 'quant_out' feeds a graph output/);
  const old = onnx.ModelProto.create({ ...m, opsetImport: [{ domain: '', version: 10 }] });
  assert.throws(() => rewriteQdqToFloat(old, 'm.onnx'), /needs opset 11 or later/);
});

test('pipeline: QDQ graph and its rewrite give identical detections and mAP', async () => {
  const rewritten = bytesOf(rewriteQdqToFloat(loadModel(join(FIX, 'qdq.onnx'))).model);
  const a = await evaluateModel(join(FIX, 'qdq.onnx'), join(FIX, 'data.yaml'), { engine: 'cpu' });
  const b = await evaluateModel(rewritten, join(FIX, 'data.yaml'), { engine: 'cpu' });
  assert.equal(a.engine, 'cpu');
  assert.ok(a.detections.length > 100);
  assert.deepEqual(b.detections, a.detections);
  assert.deepEqual(b.eval.stats, a.eval.stats);
  const magic = bytesOf(rewriteQdqToFloat(loadModel(join(FIX, 'qdq.onnx')), 'qdq.onnx', { round: 'magic' }).model);
  const c = await detectDataset(magic, join(FIX, 'data.yaml'), { engine: 'cpu' });
  assert.deepEqual(c.run.detections, a.detections);
  // And quantization does change them (the comparison is not vacuous).
  const f = await detectDataset(join(FIX, 'float.onnx'), join(FIX, 'data.yaml'), { engine: 'cpu' });
  assert.notDeepEqual(f.run.detections, a.detections);
});
