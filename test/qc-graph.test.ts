// The TensorFlow.js executor against onnxruntime-node on the same inputs (torch-exported models).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { selectBackend } from '../src/core/qc/backend';
import { TfGraph } from '../src/core/qc/tfGraph';
import { loadModel, onnx } from '../src/core/onnx/proto';
import { assertFloatClose } from './helpers/floatClose';

const fx = (name: string) => join(__dirname, 'fixtures', 'qc', name);

function image(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
}

for (const name of ['tiny_float.onnx', 'tiny_qdq.onnx']) {
  test(`tfjs forward equals onnxruntime on ${name}`, async () => {
    await selectBackend('cpu');
    const g = TfGraph.load(fx(name));
    const data = image(2 * 3 * 64 * 64, 7);
    const ours = tf.tidy(() => g.run({ images: tf.tensor(data, [2, 3, 64, 64]) })[g.outputs[0]].dataSync());
    const s = await ort.InferenceSession.create(fx(name), { graphOptimizationLevel: 'disabled' });
    const ref = (await s.run({ images: new ort.Tensor('float32', data, [2, 3, 64, 64]) }))[g.outputs[0]].data as Float32Array;
    // Decoded boxes are in pixels (up to ~100): float32 summation-order noise only.
    assertFloatClose(ours, ref, '|tfjs - ort|');
    g.dispose();
  });
}

test('NHWC input layout gives the same outputs as NCHW', async () => {
  await selectBackend('cpu');
  const g = TfGraph.load(fx('tiny_qdq.onnx'));
  const x = tf.tensor(image(3 * 64 * 64, 3), [1, 3, 64, 64]);
  const a = tf.tidy(() => g.run({ images: x })[g.outputs[0]].dataSync());
  const b = tf.tidy(() => g.run({ images: tf.transpose(x, [0, 2, 3, 1]) }, { inputLayout: 'nhwc' })[g.outputs[0]].dataSync());
  assert.deepEqual(Array.from(a), Array.from(b));
});

test('an unsupported op is an error naming the op and the node', async () => {
  await selectBackend('cpu');
  const m = loadModel(fx('tiny_float.onnx'));
  const sig = m.graph!.node!.find((n) => n.opType === 'Sigmoid')!;
  sig.opType = 'Mish';
  const g = new TfGraph(onnx.ModelProto.decode(onnx.ModelProto.encode(m).finish()), 'edited.onnx');
  assert.throws(() => tf.tidy(() => { g.run({ images: tf.zeros([1, 3, 64, 64]) }); }),
    (e: Error) => /edited\.onnx/.test(e.message) && /Mish/.test(e.message) && e.message.includes(sig.name!));
});

test('tfjs forward equals onnxruntime on the bundled example (W4A4 and W3A3 QDQ, 320x320)', async (t) => {
  await selectBackend('cpu');
  const root = join(__dirname, '..', 'examples', 'shapes');
  const { existsSync } = await import('node:fs');
  for (const bits of ['w4a4', 'w3a3']) {
    const path = join(root, bits, 'qdq.onnx');
    if (!existsSync(path)) { t.diagnostic(`SKIP ${bits}: ${path} is not there`); continue; }
    const g = TfGraph.load(path);
    const data = image(3 * 320 * 320, 5);
    const ours = tf.tidy(() => g.run({ [g.inputs[0].name]: tf.tensor(data, [1, 3, 320, 320]) })[g.outputs[0]].dataSync());
    const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled' });
    const ref = (await s.run({ [g.inputs[0].name]: new ort.Tensor('float32', data, [1, 3, 320, 320]) }))[g.outputs[0]].data as Float32Array;
    assertFloatClose(ours, ref, `${bits}: |tfjs - ort|`);
    g.dispose();
  }
});
