// The GPU check of QC on TensorFlow.js WebGPU (docs/qc.md, "GPU check"), run on a GPU machine by
// tools/gpu/run.sh from the bundle tools/gpu/pack.sh makes. It checks that WebGPU gives the loss
// and γ/β gradients of the pure-JS backend and the forward pass of wasm (which equals onnxruntime's:
// test/qc-graph.test.ts), then times QC steps on WebGPU against wasm on the same machine, on the
// bundled example and on a YOLOv5n-sized QDQ model at 320x320 (the held-out PyTorch QC timing's
// network: 400 steps x 64 images in 25 s on an H200).
//   node check.js OUT.json [YOLOV5N_QDQ.onnx]      (cwd: the repository root)
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { benchQC, type QcBenchOptions } from '../../bench/qc';
import { webgpuAdapter } from '../../src/core/gpu/webgpu';
import { selectBackend } from '../../src/core/qc/backend';
import { TfGraph } from '../../src/core/qc/tfGraph';
import { maxAbsDiff } from '../../test/helpers/floatClose';
import { assertSameLossAndGrads, tinyLossAndGrads } from '../../test/qcGradCase';

const PYTORCH_S = 25; // 400 steps x 64 images, YOLOv5n at 320x320, H200 (the reference)
const out = process.argv[2] ?? 'gpu-check.json';
const yolov5n = process.argv[3];
// A rehearsal where there is no GPU (tools/gpu/run.sh with QAT_LENS_GPU_CHECK_LOCAL=1, on lavapipe):
// a software adapter is accepted and the runs are small.
const local = !!process.env.QAT_LENS_GPU_CHECK_LOCAL;
const BIG = local ? 4 : 64, STEPS = local ? 1 : 5;
const report: Record<string, unknown> = { node: process.version, local };
const save = () => writeFileSync(out, JSON.stringify(report, null, 1));

async function forwardOn(backend: 'webgpu' | 'cpu', path: string, x: Float32Array): Promise<Float32Array> {
  await selectBackend(backend);
  const g = TfGraph.load(path);
  const y = tf.tidy(() => g.run({ [g.inputs[0].name]: tf.tensor(x, [1, 3, 320, 320]) })[g.outputs[0]]);
  const v = (await y.data()) as Float32Array;
  y.dispose();
  g.dispose();
  return v;
}

async function main(): Promise<void> {
  const adapter = await webgpuAdapter();
  report.adapter = adapter;
  const auto = await selectBackend('auto');
  report.auto = { name: auto.name, adapter: auto.adapter, notes: auto.notes };
  console.log(`adapter: ${adapter?.description ?? 'none'}; auto chose tfjs ${auto.name} ${auto.notes.join('; ')}`);
  save();
  if (auto.name !== 'webgpu' && !local) throw new Error('auto did not choose WebGPU: no hardware adapter here');

  // Correctness on this GPU.
  await selectBackend('webgpu');
  const gpu = await tinyLossAndGrads('test/fixtures/qc/tiny_qdq.onnx');
  await tf.setBackend('cpu');
  const ref = await tinyLossAndGrads('test/fixtures/qc/tiny_qdq.onnx');
  assertSameLossAndGrads(gpu, ref);
  let s = 7;
  const x = Float32Array.from({ length: 3 * 320 * 320 }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
  const a = await forwardOn('webgpu', 'examples/shapes/w4a4/qdq.onnx', x);
  const b = await forwardOn('cpu', 'examples/shapes/w4a4/qdq.onnx', x);
  const { max, big } = maxAbsDiff(a, b);
  report.correctness = { lossGpu: gpu.loss, lossJs: ref.loss, exampleForwardMaxAbs: max, exampleForwardLargest: big };
  console.log(`correct: loss/gradients equal the pure-JS backend; example forward max |webgpu - wasm| ${max} (largest ${big})`);
  save();

  // Speed, WebGPU against wasm on this machine.
  const runs: Record<string, unknown>[] = [];
  report.speed = runs;
  const bench = async (label: string, o: Omit<QcBenchOptions, 'compareJs'>) => {
    console.log(`\n== ${label}`);
    const r = await benchQC({ ...o, compareJs: false });
    runs.push({ label, ...r });
    save();
    return r;
  };
  await bench('example W4A4, wasm, batch 8', { backend: 'cpu', batch: 8, steps: local ? 1 : 2 });
  await bench('example W4A4, webgpu, batch 8', { backend: 'webgpu', batch: 8, steps: STEPS });
  await bench(`example W4A4, webgpu, batch ${BIG}`, { backend: 'webgpu', batch: BIG, steps: STEPS });
  if (yolov5n) {
    const r = await bench(`YOLOv5n-sized W4A4, webgpu, batch ${BIG}`, { backend: 'webgpu', batch: BIG, steps: STEPS, model: yolov5n });
    const total = (400 * (r.stepMs as number) * (64 / BIG)) / 1000;
    report.vsPytorch = { seconds400x64: total, pytorchSeconds: PYTORCH_S, ratio: total / PYTORCH_S };
    console.log(`\n400 steps x 64 images, YOLOv5n-sized, tfjs WebGPU: ≈ ${total.toFixed(0)} s; PyTorch ${PYTORCH_S} s: ${(total / PYTORCH_S).toFixed(1)}x`);
    await bench(`YOLOv5n-sized W4A4, wasm, batch ${local ? 2 : 8}`, { backend: 'cpu', batch: local ? 2 : 8, steps: 1, model: yolov5n });
  }
  save();
}

main().then(
  () => console.log(`\nwrote ${out}`),
  (err) => { report.error = String((err as Error).stack ?? err); save(); console.error(err); process.exit(1); },
);
