// The WebGPU paths on a real WebGPU stack (Dawn through the `webgpu` package, onnxruntime's own
// Dawn): inference and QC training (src/core/train) on onnxruntime's WebGPU engine. Run by
// `npm run test:webgpu`, which provides Mesa's lavapipe (Vulkan on the CPU) where there is no GPU;
// on a GPU machine, QAT_LENS_WEBGPU=system runs it on the machine's own adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { webgpuAdapter } from '../../src/core/gpu/webgpu';
import { openSession } from '../../src/core/infer/engine';
import { rewriteQdqToFloat } from '../../src/core/infer/qdqToFloat';
import { indexGraph } from '../../src/core/onnx/graph';
import { loadModel, onnx } from '../../src/core/onnx/proto';
import { findHeads, findQuantLayers } from '../../src/core/qc/heads';
import { createGradEngine, type GradEngine } from '../../src/core/train/engine';
import { assertFloatClose } from '../helpers/floatClose';
import { runTies, TIES_A, tiesModel } from '../helpers/qdqTiesModel';

const ROOT = join(__dirname, '..', '..');
const QC = join(ROOT, 'test', 'fixtures', 'qc');
const expectSoftware = process.env.QAT_LENS_WEBGPU !== 'system';
const tmp = mkdtempSync(join(tmpdir(), 'qat-lens-webgpu-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function image(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test('the WebGPU adapter is found and recognised for what it is', async () => {
  const a = await webgpuAdapter();
  assert.ok(a, 'no WebGPU adapter: run through `npm run test:webgpu` (it provides lavapipe)');
  assert.equal(a.software, expectSoftware, a.description);
  if (expectSoftware) assert.match(a.description, /llvmpipe/);
});

async function gradCase(path: string, size: number, batch: number, engine: 'cpu' | 'webgpu'): Promise<{ device: string; heads: Float32Array[]; dGamma: Float32Array[]; dBeta: Float32Array[] }> {
  const model = loadModel(path);
  const layers = findQuantLayers(indexGraph(model.graph!));
  const heads = await findHeads(model, path, [size, size]);
  const e: GradEngine = await createGradEngine(model, path, { engine, layers, heads: heads.outputs, imgsz: [size, size] });
  try {
    const x = image(batch * 3 * size * size, 7);
    const gamma = layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.9 + 0.02 * (c % 9)));
    const beta = layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.01 * ((c % 5) - 2)));
    const h = await e.forward(x, batch, gamma, beta);
    const dHeads = h.map((t, i) => image(t.length, 100 + i).map((v) => v - 0.5));
    const g = await e.backward(x, batch, gamma, beta, dHeads);
    return { device: e.device, heads: h, ...g };
  } finally {
    await e.dispose();
  }
}

for (const [name, size, batch] of [
  ['tiny_qdq.onnx', 64, 2],
  ['../../../examples/shapes/w4a4/qdq.onnx', 320, 1],
] as const) {
  test(`QC engine on WebGPU: heads and γ/β gradients equal the CPU engine's on ${name.split('/').slice(-3).join('/')}`, async (t) => {
    const path = join(QC, name);
    const gpu = await gradCase(path, size, batch, 'webgpu');
    const cpu = await gradCase(path, size, batch, 'cpu');
    assert.equal(gpu.device, `webgpu (${(await webgpuAdapter())!.description})`);
    assert.match(cpu.device, /^cpu/);
    // These inputs put no 4-bit activation within float noise of a rounding boundary, so the heads
    // and gradients agree to float32 noise.
    gpu.heads.forEach((h, i) => assertFloatClose(h, cpu.heads[i], `head ${i}: |webgpu - cpu|`));
    const flat = (a: Float32Array[]) => Float32Array.from(a.flatMap((x) => Array.from(x)));
    const big = Math.max(...Array.from(flat([...cpu.dGamma, ...cpu.dBeta]), Math.abs));
    assert.ok(big > 1e-4, `the gradient is not zero (${big})`);
    let max = 0,
      d2 = 0,
      r2 = 0;
    [...gpu.dGamma, ...gpu.dBeta].forEach((d, i) => {
      const r = [...cpu.dGamma, ...cpu.dBeta][i];
      for (let k = 0; k < d.length; k++) {
        max = Math.max(max, Math.abs(d[k] - r[k]));
        d2 += (d[k] - r[k]) ** 2;
        r2 += r[k] ** 2;
      }
    });
    const rel = Math.sqrt(d2 / r2);
    t.diagnostic(`γ/β gradients: max |webgpu - cpu| ${max} (largest ${big}), relative L2 ${rel}`);
    // The tiny fixture agrees to float noise everywhere. On the example, lavapipe's kernels round a few
    // 4-bit activations across a clip or rounding boundary (the heads still agree to 1e-5), their
    // straight-through masks differ, and the whole gradient moves: 5.7e-3 relative L2 measured (one
    // flipped activation moved a 2-image gradient by 20% in an earlier measurement, docs/qc.md). The
    // bound catches a wrong backward (which moves it by O(1)), not that noise; ArgMax (the GPU MaxPool
    // backward's tie rule) was checked to pick the first maximum on WebGPU as on the CPU.
    assert.ok(rel <= (size === 64 ? 1e-5 : 1e-2), `γ/β gradients: relative L2 |webgpu - cpu| ${rel} (max ${max} of ${big})`);
  });
}

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

test('qat-lens correct --engine webgpu trains on WebGPU and writes a model onnxruntime loads', async () => {
  const cli = join(ROOT, 'bin', 'qat-lens.js');
  const run = (engine: string) => {
    const json = join(tmp, `${engine}.json`);
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'correct',
        join(QC, 'tiny_qdq.onnx'),
        '--data',
        join(QC, 'data', 'data.yaml'),
        '--calib',
        'calib',
        '--steps',
        '3',
        '--batch',
        '8',
        '--lr',
        '0.01',
        '--engine',
        engine,
        '--out',
        join(tmp, `${engine}.onnx`),
        '--json',
        json,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, report: JSON.parse(readFileSync(json, 'utf8')) as { device: string; lossCurve: number[]; out: string } };
  };
  const gpu = run('webgpu');
  const cpu = run('cpu');
  const adapter = (await webgpuAdapter())!.description;
  assert.equal(gpu.report.device, `webgpu (${adapter})`);
  assert.ok(gpu.out.includes(`trained on onnxruntime webgpu (${adapter})`), gpu.out);
  assert.match(cpu.report.device, /^cpu \((\d+ shards x )?\d+ threads?\)$/);
  // The same first batch on both: the first loss agrees to float noise; later ones follow Adam,
  // whose first steps move by ±lr whatever the gradient's size, so they are compared loosely.
  assert.ok(Math.abs(gpu.report.lossCurve[0] - cpu.report.lossCurve[0]) <= 1e-5 * cpu.report.lossCurve[0], `${gpu.report.lossCurve[0]} vs ${cpu.report.lossCurve[0]}`);
  gpu.report.lossCurve.forEach((l, i) => assert.ok(Math.abs(l - cpu.report.lossCurve[i]) <= 1e-3 * l, `step ${i + 1}: ${l} vs ${cpu.report.lossCurve[i]}`));
  const s = await ort.InferenceSession.create(gpu.report.out, { executionProviders: ['cpu'] });
  const y = await s.run({ images: new ort.Tensor('float32', image(3 * 64 * 64, 3), [1, 3, 64, 64]) });
  assert.deepEqual(y[s.outputNames[0]].dims, [1, 240, 7]);
  await s.release();
});
