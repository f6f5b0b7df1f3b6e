// QC training speed on this machine's CPU backends: steps/s of Adam on γ/β with YOLOv5's loss, for
// the bundled example at 320x320, and where the time goes (image loading, forward, backward,
// optimizer). Model: examples/shapes/w4a4/qdq.onnx, or (until the example lands) a QDQ model of the
// same architecture made by tools/fixtures/qc/make_bench_model.py (random weights: speed only).
//   npm run bench qc            QC_BENCH_BATCH=16 QC_BENCH_STEPS=5 npm run bench qc
//   QC_BENCH_BACKEND=webgpu (or auto) QC_BENCH_BATCH=64 QC_BENCH_MODEL=FILE.onnx ...; on a GPU
//   machine, tools/gpu/check.ts runs the whole GPU check (docs/qc.md).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { labelledImages } from '../src/core/data/dataset';
import { selectBackend, type TrainingBackend } from '../src/core/qc/backend';
import { findHeads, findQuantLayers } from '../src/core/qc/heads';
import { TfGraph } from '../src/core/qc/tfGraph';
import { affineHooks, calibSource, qcLoss, trainQC } from '../src/core/qc/train';

function benchModel(): { path: string; what: string } {
  const example = 'examples/shapes/w4a4/qdq.onnx';
  if (existsSync(example)) return { path: example, what: 'the bundled example (W4A4 QDQ)' };
  const path = '/tmp/qc-bench/example_arch_w4a4.onnx';
  if (!existsSync(path)) execFileSync('/usr/bin/python3', ['tools/fixtures/qc/make_bench_model.py', path], { stdio: 'ignore' });
  return { path, what: "a W4A4 QDQ model of the example's architecture (random weights; the example's qdq.onnx is not there yet)" };
}

export interface QcBenchOptions {
  backend: TrainingBackend;
  batch: number;
  steps: number;
  /** A QDQ model at 320x320 (default: the bundled example's W4A4). */
  model?: string;
  /** Also time the pure-JS cpu backend against wasm (when wasm is the one benchmarked). */
  compareJs?: boolean;
}

const fromEnv = (): QcBenchOptions => ({
  backend: (process.env.QC_BENCH_BACKEND ?? 'cpu') as TrainingBackend,
  batch: Number(process.env.QC_BENCH_BATCH ?? 8),
  steps: Number(process.env.QC_BENCH_STEPS ?? 4),
  model: process.env.QC_BENCH_MODEL,
  compareJs: true,
});

export async function benchQC(o: QcBenchOptions = fromEnv()): Promise<Record<string, number | string>> {
  const { batch, steps } = o;
  const size: [number, number] = [320, 320];
  const m = o.model ? { path: o.model, what: 'the model given' } : benchModel();
  console.log(`model: ${m.what}: ${m.path}`);
  const pref = o.backend;
  const be = await selectBackend(pref);
  console.log(`backend: tfjs ${be.name}${be.notes.length ? ` (${be.notes.join('; ')})` : ''}, batch ${batch}, ${size[0]}x${size[1]}, ${steps} timed steps after 1 warm-up step`);
  const g = TfGraph.load(m.path);
  const layers = findQuantLayers(g);
  const heads = await findHeads(g, size);
  const { images } = await labelledImages('examples/shapes', 'calib', { limit: Math.max(batch * (steps + 1), batch) });
  const src = calibSource(images, size);
  console.log(`${layers.length} quantized layers (${layers.reduce((s, l) => s + l.channels, 0)} channels: as many γ and β), ${heads.outputs.length} heads`);

  // Forward alone (loss, no tape), on a warm graph.
  const b = await src.batch(Array.from({ length: batch }, (_, i) => i));
  const ones = new Map(layers.map((l) => [l.name, tf.keep(tf.ones([l.channels]))]));
  const zeros = new Map(layers.map((l) => [l.name, tf.keep(tf.zeros([l.channels]))]));
  const hooks = affineHooks(layers, (l) => ones.get(l.name)!, (l) => zeros.get(l.name)!);
  // Read back asynchronously: tfjs-backend-webgpu's dataSync needs OffscreenCanvas, which Node lacks.
  const forward = async () => {
    const loss = tf.tidy(() => qcLoss(g, heads, hooks, b, batch, size));
    await loss.data();
    loss.dispose();
  };
  await forward();
  let t = performance.now();
  for (let i = 0; i < 2; i++) await forward();
  const forwardMs = (performance.now() - t) / 2;

  // Kernels launched by one forward+backward: on a GPU each is a dispatch with a fixed cost.
  const gv0 = new Map(layers.map((l) => [l.name, tf.variable(tf.ones([l.channels]))]));
  const bv0 = new Map(layers.map((l) => [l.name, tf.variable(tf.zeros([l.channels]))]));
  const vars0 = [...gv0.values(), ...bv0.values()];
  const prof = await tf.profile(async () => {
    const { value, grads } = tf.variableGrads(() => qcLoss(g, heads, affineHooks(layers, (l) => gv0.get(l.name)!, (l) => bv0.get(l.name)!), b, batch, size), vars0);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose(vars0);
  const kernels = prof.kernels.length;

  await trainQC(g, layers, heads, src, { steps: 1, lr: 1e-3, batch });
  const fit = await trainQC(g, layers, heads, src, { steps, lr: 1e-3, batch });
  const tm = fit.timings;
  const stepMs = tm.totalMs / steps;
  const fbMs = tm.forwardBackwardMs / steps;
  const r = {
    model: m.path, backend: be.adapter ? `${be.name} (${be.adapter})` : be.name, kernels,
    batch, steps,
    stepMs, stepsPerSecond: 1000 / stepMs, imagesPerSecond: (1000 * batch) / stepMs,
    forwardMs, backwardMs: fbMs - forwardMs, optimizerMs: tm.optimizerMs / steps, loadMs: tm.loadMs / steps,
  };
  console.log(`QC step (batch ${batch}): ${stepMs.toFixed(0)} ms = ${r.stepsPerSecond.toFixed(3)} steps/s, ${r.imagesPerSecond.toFixed(1)} images/s`);
  console.log(`  forward (loss included) ${forwardMs.toFixed(0)} ms, backward ${r.backwardMs.toFixed(0)} ms, optimizer (Adam + γ clamp) ${r.optimizerMs.toFixed(1)} ms, images ${r.loadMs.toFixed(1)} ms (decoded once, then cached)`);
  console.log(`  ${kernels} kernels per forward+backward (${(stepMs / kernels * 1000).toFixed(0)} µs per kernel on average)`);
  const paper = 400 * 64;
  console.log(`  400 steps x 64 images (the held-out PyTorch run: 25 s on an H200) would take ≈ ${((paper / r.imagesPerSecond) / 60).toFixed(0)} min here`);

  if (be.name !== 'wasm' || !o.compareJs) {
    tf.dispose([...ones.values(), ...zeros.values()]);
    g.dispose();
    return r;
  }
  // The pure-JS cpu backend for comparison (one step, batch 2: it is much slower).
  await tf.setBackend('cpu');
  const b2 = await src.batch([0, 1]);
  tf.tidy(() => qcLoss(g, heads, hooks, b2, 2, size).dataSync());
  t = performance.now();
  const gv = new Map(layers.map((l) => [l.name, tf.variable(tf.ones([l.channels]))]));
  const bv = new Map(layers.map((l) => [l.name, tf.variable(tf.zeros([l.channels]))]));
  const vars = [...gv.values(), ...bv.values()];
  const vhooks = affineHooks(layers, (l) => gv.get(l.name)!, (l) => bv.get(l.name)!);
  tf.tidy(() => { const { value, grads } = tf.variableGrads(() => qcLoss(g, heads, vhooks, b2, 2, size), vars); value.dataSync(); Object.values(grads).forEach((x) => x.dataSync()); });
  const jsMs = performance.now() - t;
  t = performance.now();
  await selectBackend(pref);
  tf.tidy(() => { const { value, grads } = tf.variableGrads(() => qcLoss(g, heads, vhooks, b2, 2, size), vars); value.dataSync(); Object.values(grads).forEach((x) => x.dataSync()); });
  const wasmMs = performance.now() - t;
  console.log(`forward+backward of 2 images: pure-JS cpu backend ${jsMs.toFixed(0)} ms, ${be.name} ${wasmMs.toFixed(0)} ms (${(jsMs / wasmMs).toFixed(1)}x)`);
  tf.dispose([...ones.values(), ...zeros.values(), ...vars]);
  g.dispose();
  return { ...r, jsCpuFwdBwd2Ms: jsMs, wasmFwdBwd2Ms: wasmMs };
}
