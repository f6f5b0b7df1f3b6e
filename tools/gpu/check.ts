// The GPU check of QC on onnxruntime (docs/qc.md, "GPU check"), run on a GPU machine by tools/gpu/run.sh
// from the bundle tools/gpu/pack.sh makes. It checks that the gradient engine on the GPU gives the CPU
// engine's heads and γ/β gradients, then runs QC on a YOLOv5n-sized W4A4 model at 320x320, 64 images a
// step, for up to 400 steps (the held-out PyTorch QC timing: 400 steps x 64 images in 25 s on an H200),
// stopping early after QAT_LENS_GPU_BUDGET_S seconds (default 240) and extrapolating; then 2 steps on the
// CPU engine (every core) for comparison.
//   node check.js OUT.json YOLOV5N_QDQ.onnx      (cwd: the repository root)
import { writeFileSync } from 'node:fs';
import { labelledImages } from '../../src/core/data/dataset';
import { webgpuAdapter } from '../../src/core/gpu/webgpu';
import type { EngineChoice } from '../../src/core/infer/engine';
import { indexGraph } from '../../src/core/onnx/graph';
import { loadModel } from '../../src/core/onnx/proto';
import { findHeads, findQuantLayers } from '../../src/core/qc/heads';
import { lossFor } from '../../src/core/qc/loss';
import { MB } from '../../src/core/qc/memory';
import { calibSource, trainQC } from '../../src/core/qc/train';
import { createGradEngine } from '../../src/core/train/engine';

const PYTORCH_S = 25; // 400 steps x 64 images, YOLOv5n at 320x320, H200 (the issue's reference)
const out = process.argv[2] ?? 'gpu-check.json';
const yolov5n = process.argv[3];
// A rehearsal where there is no GPU (tools/gpu/run.sh with QAT_LENS_GPU_CHECK_LOCAL=1, on lavapipe): small runs.
const local = !!process.env.QAT_LENS_GPU_CHECK_LOCAL;
const BATCH = local ? 2 : 64, STEPS = local ? 2 : 400, BUDGET_S = Number(process.env.QAT_LENS_GPU_BUDGET_S ?? (local ? 60 : 240));
const engineChoice = (process.env.QAT_LENS_GPU_ENGINE ?? 'auto') as EngineChoice;
const report: Record<string, unknown> = { node: process.version, local };
const save = () => writeFileSync(out, JSON.stringify(report, null, 1));

async function setup(path: string, size: number, engine: EngineChoice) {
  const model = loadModel(path);
  const layers = findQuantLayers(indexGraph(model.graph!));
  const heads = await findHeads(model, path, [size, size]);
  const e = await createGradEngine(model, path, { engine, layers, heads: heads.outputs, imgsz: [size, size] });
  return { e, layers, heads };
}

/** Heads and γ/β gradients of one batch on an engine. */
async function grads(path: string, size: number, engine: EngineChoice) {
  const { e, layers } = await setup(path, size, engine);
  let s = 7;
  const rnd = (n: number) => Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
  const x = rnd(2 * 3 * size * size);
  const gamma = layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.9 + 0.02 * (c % 9)));
  const beta = layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.01 * ((c % 5) - 2)));
  const h = await e.forward(x, 2, gamma, beta);
  const g = await e.backward(x, 2, gamma, beta, h.map((t) => rnd(t.length).map((v) => v - 0.5)));
  await e.dispose();
  return { device: e.device, notes: e.notes, flat: Float32Array.from([...h, ...g.dGamma, ...g.dBeta].flatMap((a) => Array.from(a))) };
}

async function qc(path: string, engine: EngineChoice, batch: number, steps: number, budgetS: number) {
  const { e, layers, heads } = await setup(path, 320, engine);
  const loss = lossFor('yolov5', { anchors: heads.anchors, strides: heads.strides, nc: heads.nc, imgsz: 320 });
  const { images } = await labelledImages('examples/shapes', 'calib', { limit: 256 });
  const ac = new AbortController();
  const t0 = performance.now();
  let done = 0;
  try {
    await trainQC({ engine: e, loss, layers, heads }, calibSource(images, [320, 320]), {
      steps, lr: 1e-3, batch, signal: ac.signal, every: 1,
      onProgress: (step) => { done = step; if ((performance.now() - t0) / 1000 > budgetS) ac.abort(); },
    });
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  }
  const s = (performance.now() - t0) / 1000;
  await e.dispose();
  return { device: e.device, steps: done, seconds: s, msPerImage: (1000 * s) / (done * batch), projected400x64: (s / done) * 400 * (64 / batch) };
}

async function main(): Promise<void> {
  const adapter = await webgpuAdapter();
  report.adapter = adapter;
  console.log(`adapter: ${adapter?.description ?? 'none'}`);
  save();
  // Correctness on this GPU: the tiny fixture and the bundled example.
  for (const [path, size] of [['test/fixtures/qc/tiny_qdq.onnx', 64], ['examples/shapes/w4a4/qdq.onnx', 320]] as const) {
    const gpu = await grads(path, size, local ? 'webgpu' : engineChoice);
    const cpu = await grads(path, size, 'cpu');
    let max = 0, big = 0;
    for (let i = 0; i < cpu.flat.length; i++) { max = Math.max(max, Math.abs(gpu.flat[i] - cpu.flat[i])); big = Math.max(big, Math.abs(cpu.flat[i])); }
    (report.correctness ??= []) as unknown[];
    (report.correctness as unknown[]).push({ path, device: gpu.device, notes: gpu.notes, maxAbsDiff: max, largest: big, ok: max <= 1e-4 * big });
    console.log(`${path}: ${gpu.device} vs cpu: heads and γ/β gradients max |diff| ${max} (largest ${big})${gpu.notes.length ? `; ${gpu.notes.join('; ')}` : ''}`);
    save();
  }
  if (!yolov5n) return;
  const g = await qc(yolov5n, local ? 'webgpu' : engineChoice, BATCH, STEPS, BUDGET_S);
  report.gpu = g;
  report.vsPytorch = { pytorchSeconds: PYTORCH_S, ratio: g.projected400x64 / PYTORCH_S };
  console.log(`YOLOv5n-sized W4A4, 320x320, batch ${BATCH}, ${g.device}: ${g.steps} steps in ${g.seconds.toFixed(1)} s (${g.msPerImage.toFixed(2)} ms/image); 400 x 64 ≈ ${g.projected400x64.toFixed(0)} s vs PyTorch ${PYTORCH_S} s: ${(g.projected400x64 / PYTORCH_S).toFixed(2)}x`);
  save();
  const c = await qc(yolov5n, 'cpu', BATCH, 2, BUDGET_S / 4);
  report.cpu = c;
  console.log(`same on ${c.device}: ${c.msPerImage.toFixed(1)} ms/image; 400 x 64 ≈ ${(c.projected400x64 / 60).toFixed(0)} min; peak memory ${(process.memoryUsage().rss / MB).toFixed(0)} MB now`);
  save();
}

main().then(
  () => console.log(`\nwrote ${out}`),
  (err) => { report.error = String((err as Error).stack ?? err); save(); console.error(err); process.exit(1); },
);
