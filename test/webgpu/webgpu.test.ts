// The WebGPU paths on a real WebGPU stack (Dawn through the `webgpu` package, onnxruntime's own
// Dawn): QC training on tfjs-backend-webgpu and the onnxruntime WebGPU engine. Run by
// `npm run test:webgpu`, which provides Mesa's lavapipe (Vulkan on the CPU) where there is no GPU;
// on a GPU machine, QAT_LENS_WEBGPU=system runs it on the machine's own adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { webgpuAdapter } from '../../src/core/gpu/webgpu';
import { openSession } from '../../src/core/infer/engine';
import { rewriteQdqToFloat } from '../../src/core/infer/qdqToFloat';
import { onnx } from '../../src/core/onnx/proto';
import { selectBackend } from '../../src/core/qc/backend';
import { TfGraph } from '../../src/core/qc/tfGraph';
import { assertFloatClose } from '../helpers/floatClose';
import { assertSameLossAndGrads, tinyLossAndGrads } from '../qcGradCase';
import { runTies, TIES_A, tiesModel } from '../helpers/qdqTiesModel';

const ROOT = join(__dirname, '..', '..');
const QC = join(ROOT, 'test', 'fixtures', 'qc');
const expectSoftware = process.env.QAT_LENS_WEBGPU !== 'system';
const tmp = mkdtempSync(join(tmpdir(), 'qat-lens-webgpu-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function image(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
}

test('the WebGPU adapter is found and recognised for what it is', async () => {
  const a = await webgpuAdapter();
  assert.ok(a, 'no WebGPU adapter: run through `npm run test:webgpu` (it provides lavapipe)');
  assert.equal(a.software, expectSoftware, a.description);
  if (expectSoftware) assert.match(a.description, /llvmpipe/);
});

test('tfjs: auto passes over a software adapter, webgpu by name uses it', async () => {
  const a = (await webgpuAdapter())!;
  const auto = await selectBackend('auto');
  if (a.software) {
    assert.equal(auto.name, 'wasm');
    assert.ok(auto.notes.some((n) => n.includes('only a software adapter') && n.includes(a.description)), auto.notes.join('; '));
  } else assert.equal(auto.name, 'webgpu');
  const named = await selectBackend('webgpu');
  assert.equal(named.name, 'webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.equal(named.adapter, a.description);
  assert.equal(named.notes.some((n) => n.includes('software')), a.software);
});

for (const [name, shape] of [['tiny_float.onnx', [2, 3, 64, 64]], ['tiny_qdq.onnx', [2, 3, 64, 64]], ['../../../examples/shapes/w4a4/qdq.onnx', [1, 3, 320, 320]]] as const) {
  test(`tfjs WebGPU forward equals onnxruntime on ${name.split('/').slice(-3).join('/')}`, async () => {
    await selectBackend('webgpu');
    const path = join(QC, name);
    const g = TfGraph.load(path);
    const data = image(shape.reduce((a: number, b: number) => a * b, 1), 7);
    const y = tf.tidy(() => g.run({ [g.inputs[0].name]: tf.tensor(data, [...shape]) })[g.outputs[0]]);
    const ours = (await y.data()) as Float32Array;
    y.dispose();
    const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', executionProviders: ['cpu'] });
    const ref = (await s.run({ [g.inputs[0].name]: new ort.Tensor('float32', data, [...shape]) }))[g.outputs[0]].data as Float32Array;
    await s.release();
    // These inputs put no 4-bit activation within float noise of a rounding boundary, so the
    // outputs agree to float32 noise.
    assertFloatClose(ours, ref, '|webgpu - ort|');
    g.dispose();
  });
}

test('tfjs WebGPU: loss and γ/β gradients equal the pure-JS backend', async () => {
  await selectBackend('webgpu');
  const gpu = await tinyLossAndGrads();
  await tf.setBackend('cpu');
  const ref = await tinyLossAndGrads();
  assertSameLossAndGrads(gpu, ref);
});

test('onnxruntime WebGPU engine: the float rewrite keeps the ties, zero points and clips', async () => {
  const rewritten = rewriteQdqToFloat(tiesModel(), 'ties', { round: 'magic' }).model;
  const [ga, gb] = await runTies(rewritten, 'webgpu');
  assert.deepEqual(ga, TIES_A);
  assert.deepEqual([ga, gb], await runTies(rewritten, 'cpu'));
});

test('onnxruntime engine: auto passes over a software adapter, webgpu by name runs the rewrite', async () => {
  const a = (await webgpuAdapter())!;
  const original = new Uint8Array(readFileSync(join(QC, 'tiny_qdq.onnx')));
  const variants = { original, gpu: () => ({ bytes: onnx.ModelProto.encode(rewriteQdqToFloat(onnx.ModelProto.decode(original)).model).finish(), rewritten: true }) };
  const auto = await openSession(variants, 'auto', 'extended');
  await auto.session.release();
  if (a.software) {
    assert.equal(auto.engine, 'cpu');
    assert.match(auto.note, /webgpu skipped: only a software adapter/);
  } else assert.equal(auto.engine, 'webgpu');
  const named = await openSession(variants, 'webgpu', 'extended');
  assert.equal(named.engine, 'webgpu', named.note);
  assert.ok(named.rewritten);
  assert.ok(named.note.includes(a.description), named.note);
  const data = image(2 * 3 * 64 * 64, 5);
  const y = (await named.session.run({ images: new ort.Tensor('float32', data, [2, 3, 64, 64]) }))[named.session.outputNames[0]].data as Float32Array;
  await named.session.release();
  const cpu = await ort.InferenceSession.create(original, { executionProviders: ['cpu'] });
  const ref = (await cpu.run({ images: new ort.Tensor('float32', data, [2, 3, 64, 64]) }))[cpu.outputNames[0]].data as Float32Array;
  await cpu.release();
  assertFloatClose(y, ref, '|webgpu rewrite - cpu QDQ|');
});

test('qat-lens correct --backend webgpu trains on WebGPU and writes a model onnxruntime loads', async () => {
  const cli = join(ROOT, 'bin', 'qat-lens.js');
  const run = (backend: string) => {
    const json = join(tmp, `${backend}.json`);
    const r = spawnSync(process.execPath, [cli, 'correct', join(QC, 'tiny_qdq.onnx'), '--data', join(QC, 'data', 'data.yaml'), '--calib', 'calib',
      '--steps', '3', '--batch', '8', '--lr', '0.01', '--backend', backend, '--engine', 'cpu', '--out', join(tmp, `${backend}.onnx`), '--json', json], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, report: JSON.parse(readFileSync(json, 'utf8')) as { backend: string; backendAdapter?: string; lossCurve: number[]; out: string } };
  };
  const gpu = run('webgpu');
  const cpu = run('cpu');
  assert.equal(gpu.report.backend, 'webgpu');
  assert.equal(gpu.report.backendAdapter, (await webgpuAdapter())!.description);
  assert.match(gpu.out, /trained on the TensorFlow\.js webgpu backend \(adapter: /);
  assert.equal(cpu.report.backend, 'wasm');
  // The same first batch on both: the first loss agrees to float noise; later ones follow Adam,
  // whose first steps move by ±lr whatever the gradient's size, so they are not compared.
  assert.ok(Math.abs(gpu.report.lossCurve[0] - cpu.report.lossCurve[0]) <= 1e-5 * cpu.report.lossCurve[0], `${gpu.report.lossCurve[0]} vs ${cpu.report.lossCurve[0]}`);
  const s = await ort.InferenceSession.create(gpu.report.out, { executionProviders: ['cpu'] });
  const y = await s.run({ images: new ort.Tensor('float32', image(3 * 64 * 64, 3), [1, 3, 64, 64]) });
  assert.deepEqual(y[s.outputNames[0]].dims, [1, 240, 7]);
  await s.release();
});
