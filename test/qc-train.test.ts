// QC end to end on the tiny torch-made QDQ detector and its tiny labelled data set: the job writes
// a valid corrected model (onnxruntime loads it, onnx's checker passes), integer weights are byte
// for byte the input's, the fold equals the unfolded γ/β model, the loss falls, cancellation leaves
// no file, and the evaluation split is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { runCorrect } from '../src/core/jobs/correct';
import { quietContext } from '../src/core/context';
import { CancelledError } from '../src/core/errors';
import { loadModel, tensorToArray } from '../src/core/onnx/proto';
import { selectBackend } from '../src/core/qc/backend';
import { foldQC } from '../src/core/qc/fold';
import { findHeads, findQuantLayers } from '../src/core/qc/heads';
import { resolveCalibration } from '../src/core/qc/runQC';
import { TfGraph } from '../src/core/qc/tfGraph';
import { affineHooks } from '../src/core/qc/train';
import { onnx } from '../src/core/onnx/proto';

const fx = (name: string) => join(__dirname, 'fixtures', 'qc', name);
const MODEL = fx('tiny_qdq.onnx');
const DATA = fx('data/data.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'qc-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function pixels(n: number): Float32Array {
  let s = 11;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
}

test('fold is exact: corrected model in onnxruntime == unfolded γ/β in the executor; integers untouched', async () => {
  await selectBackend('cpu');
  const g = TfGraph.load(MODEL);
  const layers = findQuantLayers(g);
  assert.equal(layers.length, 9);
  assert.equal(layers.filter((l) => l.perTensor).length, 1);
  const gamma = new Map(layers.map((l) => [l.name, Float32Array.from({ length: l.channels }, (_, c) => 0.7 + 0.09 * (c % 7))]));
  const beta = new Map(layers.map((l) => [l.name, Float32Array.from({ length: l.channels }, (_, c) => 0.03 * ((c % 5) - 2))]));
  const { model, layers: folded } = foldQC(g.model, g, layers, gamma, beta);
  assert.equal(folded.filter((f) => f.perTensorBecamePerChannel).length, 1);
  assert.equal(folded.filter((f) => f.biasAdded).length, 1);
  const bytes = onnx.ModelProto.encode(model).finish();
  const data = pixels(2 * 3 * 64 * 64);
  const hooks = affineHooks(layers, (l) => tf.tensor1d(gamma.get(l.name)!), (l) => tf.tensor1d(beta.get(l.name)!));
  const ours = tf.tidy(() => g.run({ images: tf.tensor(data, [2, 3, 64, 64]) }, { hooks })[g.outputs[0]].dataSync());
  const plain = tf.tidy(() => g.run({ images: tf.tensor(data, [2, 3, 64, 64]) })[g.outputs[0]].dataSync());
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const ref = (await s.run({ images: new ort.Tensor('float32', data, [2, 3, 64, 64]) }))[g.outputs[0]].data as Float32Array;
  let max = 0, moved = 0, big = 0;
  for (let i = 0; i < ref.length; i++) {
    max = Math.max(max, Math.abs(ours[i] - ref[i])); moved = Math.max(moved, Math.abs(plain[i] - ref[i])); big = Math.max(big, Math.abs(ref[i]));
  }
  assert.ok(max <= 1e-5 * big + 1e-5, `folded vs unfolded: ${max}`);
  assert.ok(moved > 0.1, 'the correction changes the outputs');
  // Integer weights: same bytes.
  const inInts = new Map(g.model.graph!.initializer!.filter((t) => t.dataType === 3).map((t) => [t.name!, Buffer.from(tensorToArray(t) as Int8Array)]));
  const outInts = model.graph!.initializer!.filter((t) => t.dataType === 3 && inInts.has(t.name!) && t.name!.endsWith('_q'));
  assert.equal(outInts.length, 9);
  for (const t of outInts) assert.ok(Buffer.from(tensorToArray(t) as Int8Array).equals(inInts.get(t.name!)!), t.name!);
  g.dispose();
});

test('correct job: writes a valid corrected model, loss falls, metadata recorded', async () => {
  const out = join(tmp, 'corrected.onnx');
  const progress: number[] = [];
  const ctx = { ...quietContext(), progress: (p: { metrics?: Record<string, number> }) => { if (p.metrics?.loss !== undefined) progress.push(p.metrics.loss); } };
  const r = await runCorrect({ model: MODEL, data: DATA, calib: 'calib', steps: 8, lr: 0.01, batch: 8, out, backend: 'cpu', engine: 'cpu' }, ctx);
  assert.ok(r.backend === 'wasm' || r.backend === 'cpu', r.backend);
  assert.equal(r.lossCurve.length, 8);
  assert.equal(r.calib.images, 8);
  assert.equal(r.calib.split, 'calib');
  // Same batch every step (8 of 8 images): the fitted loss must fall.
  assert.ok(r.lossCurve[7] < r.lossCurve[0], `loss ${r.lossCurve[0]} -> ${r.lossCurve[7]}`);
  assert.ok(progress.length >= 2);
  assert.equal(r.perLayer.length, 9);
  assert.ok(r.perLayer.some((l) => l.gammaMin !== 1 || l.gammaMax !== 1));
  assert.equal(typeof r.mapBefore, 'number');
  assert.equal(typeof r.mapAfter, 'number');
  const m = loadModel(out);
  const meta = Object.fromEntries(m.metadataProps!.map((e) => [e.key, e.value]));
  assert.equal(meta['qat_lens.qc.steps'], '8');
  assert.equal(meta['qat_lens.qc.lr'], '0.01');
  assert.equal(meta['qat_lens.qc.calibration_images'], '8');
  assert.match(meta['qat_lens.qc.source_sha256'], /^[0-9a-f]{64}$/);
  assert.equal(meta.stride, '16', 'original metadata kept');
  const s = await ort.InferenceSession.create(out);
  const y = await s.run({ images: new ort.Tensor('float32', pixels(3 * 64 * 64), [1, 3, 64, 64]) });
  assert.deepEqual(y[s.outputNames[0]].dims, [1, 240, 7]);
  const py = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (py.status !== 0) {
    console.log('# SKIP onnx.checker: /usr/bin/python3 with the onnx package is not available');
  } else {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', out]);
  }
});

test('cancelled QC leaves no file', async () => {
  const out = join(tmp, 'cancelled.onnx');
  const ac = new AbortController();
  const ctx = { ...quietContext(ac.signal), progress: () => ac.abort() };
  await assert.rejects(runCorrect({ model: MODEL, data: DATA, calib: 'calib', steps: 20, batch: 2, out, backend: 'cpu' }, ctx), CancelledError);
  assert.ok(!existsSync(out));
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('cancelled')), []);
});

test('the evaluation split is refused for calibration', async () => {
  await assert.rejects(resolveCalibration(DATA, 'val', 10), /evaluation split/);
  // The same images reached through another path are refused too.
  const other = join(tmp, 'other.yaml');
  writeFileSync(other, `path: ${fx('data')}\ncalib: images/val\nnames: [square, disc]\n`);
  await assert.rejects(resolveCalibration(DATA, other, 10), /4 of the 4 calibration images are evaluation images/);
  assert.equal((await resolveCalibration(DATA, undefined, 3)).images.length, 3);
  const out = join(tmp, 'never.onnx');
  await assert.rejects(runCorrect({ model: MODEL, data: DATA, calib: 'val', steps: 1, out, backend: 'cpu' }, quietContext()), /evaluation split/);
  assert.ok(!existsSync(out));
});

test('heads: anchors and strides read from the decode constants', async () => {
  await selectBackend('cpu');
  const g = TfGraph.load(MODEL);
  const h = await findHeads(g, [64, 64]);
  assert.deepEqual(h.strides, [8, 16]);
  assert.deepEqual(h.anchors, [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119]]);
  assert.equal(h.nc, 2);
  g.dispose();
});
