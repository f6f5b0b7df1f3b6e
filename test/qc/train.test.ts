// QC's training loop on the onnxruntime engine, on the tiny torch-made QDQ detector and its tiny labelled
// data set: the gradient of a batch is the same whatever the micro-batch; the loss curve of a run equals
// the former TensorFlow.js loop's (recorded in test/fixtures/qc/tfjs_curve_tiny.json); the fold equals the
// unfolded γ/β heads; the correct job writes a valid model (integers untouched, metadata, device named),
// cancellation leaves no file, the evaluation split is refused; heads are found from the decode constants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { labelledImages } from '../../src/core/data/dataset';
import { CancelledError } from '../../src/core/errors';
import { quietContext } from '../../src/core/context';
import { runCorrect } from '../../src/core/jobs/correct';
import { indexGraph } from '../../src/core/onnx/graph';
import { loadModel, onnx, tensorToArray } from '../../src/core/onnx/proto';
import { foldQC } from '../../src/core/qc/fold';
import { findHeads, findQuantLayers } from '../../src/core/qc/heads';
import { lossFor } from '../../src/core/qc/loss';
import { resolveCalibration } from '../../src/core/qc/runQC';
import { batchGradient, calibSource, lrAt, type QcModel, type QcTimings, trainQC } from '../../src/core/qc/train';
import { evaluateModel } from '../../src/core/infer/pipeline';
import { createGradEngine } from '../../src/core/train/engine';
import { assertFloatClose } from '../helpers/floatClose';

const fx = (name: string) => join(__dirname, '..', 'fixtures', 'qc', name);
const MODEL = fx('tiny_qdq.onnx');
const DATA = fx('data/data.yaml');
const SIZE: [number, number] = [64, 64];
const tmp = mkdtempSync(join(tmpdir(), 'qc-train-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function pixels(n: number): Float32Array {
  let s = 11;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

async function tinyQc(): Promise<QcModel & { dispose: () => Promise<void> }> {
  const model = loadModel(MODEL);
  const layers = findQuantLayers(indexGraph(model.graph!));
  const heads = await findHeads(model, MODEL, SIZE);
  const engine = await createGradEngine(model, MODEL, { engine: 'cpu', layers, heads: heads.outputs });
  const loss = lossFor('yolov5', { anchors: heads.anchors, strides: heads.strides, nc: heads.nc, imgsz: SIZE[0] });
  return { engine, loss, layers, heads, dispose: () => engine.dispose() };
}

const timings = (): QcTimings => ({ loadMs: 0, forwardMs: 0, lossMs: 0, backwardMs: 0, forwardBackwardMs: 0, optimizerMs: 0, totalMs: 0, cpuMs: 0 });

test('a batch gradient is the same for every micro-batch (loss over the whole batch, dγ/dβ summed)', async () => {
  const m = await tinyQc();
  try {
    const { images } = await labelledImages(DATA, 'calib');
    const b = await calibSource(images, SIZE).batch([0, 1, 2, 3, 4, 5, 6]);
    const gamma = m.layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.9 + 0.03 * (c % 5)));
    const beta = m.layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.01 * ((c % 3) - 1)));
    const whole = await batchGradient(m, b, 7, 7, gamma, beta, SIZE, timings());
    assert.ok(whole.loss > 0 && Number.isFinite(whole.loss));
    let big = 0;
    for (const d of [...whole.dGamma, ...whole.dBeta]) for (const v of d) big = Math.max(big, Math.abs(v));
    assert.ok(big > 1e-3, `the gradient is not zero (${big})`);
    for (const micro of [1, 3]) {
      const r = await batchGradient(m, b, 7, micro, gamma, beta, SIZE, timings());
      assert.equal(r.loss, whole.loss, `micro-batch ${micro}: loss`);
      let max = 0;
      [...r.dGamma, ...r.dBeta].forEach((d, i) => {
        const w = [...whole.dGamma, ...whole.dBeta][i];
        for (let k = 0; k < d.length; k++) max = Math.max(max, Math.abs(d[k] - w[k]));
      });
      assert.ok(max <= 2e-6 * big, `micro-batch ${micro}: max |dγ/dβ difference| ${max} (largest ${big})`);
    }
  } finally {
    await m.dispose();
  }
});

test("the loss curve equals the former TensorFlow.js loop's (same data, schedule and Adam)", async () => {
  const ref = JSON.parse(readFileSync(fx('tfjs_curve_tiny.json'), 'utf8')) as {
    steps: number;
    lr: number;
    batch: number;
    seed: number;
    lossCurve: number[];
    gamma: Record<string, number[]>;
    beta: Record<string, number[]>;
  };
  const m = await tinyQc();
  try {
    const { images } = await labelledImages(DATA, 'calib', { limit: 256 });
    const micro: number[] = [];
    const fit = await trainQC(m, calibSource(images, SIZE), { steps: ref.steps, lr: ref.lr, batch: ref.batch, seed: ref.seed, onMicroBatch: (n) => micro.push(n) });
    assert.equal(fit.lossCurve.length, ref.steps);
    assert.equal(micro.length, 1);
    fit.lossCurve.forEach((l, i) => assert.ok(Math.abs(l - ref.lossCurve[i]) <= 1e-3 * ref.lossCurve[i], `step ${i + 1}: ${l} vs tfjs ${ref.lossCurve[i]}`));
    // Adam turns float-noise differences of small gradients into whole steps (±lr), and a 4-bit activation
    // near a rounding threshold flips with the summation order, so single γ/β drift apart; their movements
    // from the start (γ - 1, β) must still agree as a whole.
    let diff = 0,
      moved = 0,
      same = 0,
      n = 0;
    for (const l of m.layers) {
      const g = fit.gamma.get(l.name)!,
        b = fit.beta.get(l.name)!;
      for (let c = 0; c < l.channels; c++) {
        for (const [ours, theirs] of [
          [g[c] - 1, ref.gamma[l.name][c] - 1],
          [b[c], ref.beta[l.name][c]],
        ]) {
          diff += Math.abs(ours - theirs);
          moved += Math.abs(theirs);
          n++;
          if (Math.sign(ours) === Math.sign(theirs)) same++;
        }
      }
    }
    assert.ok(diff / moved < 0.06, `γ/β movement differs from tfjs's by ${((100 * diff) / moved).toFixed(1)}%`);
    assert.ok(same / n > 0.97, `${((100 * same) / n).toFixed(1)}% of γ/β moved the same way as with tfjs`);
    assert.ok(fit.peakRssBytes > 50e6, `peak memory ${fit.peakRssBytes}`);
    assert.ok(fit.timings.cpuMs > 0 && fit.timings.totalMs > 0);
  } finally {
    await m.dispose();
  }
});

test("fold is exact: the corrected model's heads on onnxruntime == the engine's heads under γ/β; integers untouched", async () => {
  const model = loadModel(MODEL);
  const layers = findQuantLayers(indexGraph(model.graph!));
  assert.equal(layers.length, 9);
  assert.equal(layers.filter((l) => l.perTensor).length, 1);
  const heads = await findHeads(model, MODEL, SIZE);
  const gamma = layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.7 + 0.09 * (c % 7)));
  const beta = layers.map((l) => Float32Array.from({ length: l.channels }, (_, c) => 0.03 * ((c % 5) - 2)));
  const { model: folded, layers: fl } = foldQC(model, MODEL, layers, new Map(layers.map((l, i) => [l.name, gamma[i]])), new Map(layers.map((l, i) => [l.name, beta[i]])));
  assert.equal(fl.filter((f) => f.perTensorBecamePerChannel).length, 1);
  assert.equal(fl.filter((f) => f.biasAdded).length, 1);
  const data = pixels(2 * 3 * 64 * 64);
  const engine = await createGradEngine(model, MODEL, { engine: 'cpu', layers, heads: heads.outputs });
  const ours = await engine.forward(data, 2, gamma, beta);
  const plain = await engine.forward(
    data,
    2,
    layers.map((l) => new Float32Array(l.channels).fill(1)),
    layers.map((l) => new Float32Array(l.channels)),
  );
  await engine.dispose();
  const graph = onnx.GraphProto.create({ ...folded.graph!, output: heads.outputs.map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } })) });
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(onnx.ModelProto.create({ ...folded, graph })).finish(), { graphOptimizationLevel: 'disabled' });
  const out = await s.run({ images: new ort.Tensor('float32', data, [2, 3, 64, 64]) });
  await s.release();
  heads.outputs.forEach((h, i) => {
    const ref = out[h].data as Float32Array;
    let max = 0,
      moved = 0,
      big = 0;
    for (let k = 0; k < ref.length; k++) {
      max = Math.max(max, Math.abs(ours[i][k] - ref[k]));
      moved = Math.max(moved, Math.abs(plain[i][k] - ref[k]));
      big = Math.max(big, Math.abs(ref[k]));
    }
    assert.ok(max <= 1e-5 * big + 1e-5, `head ${h}: folded vs unfolded ${max}`);
    assert.ok(moved > 0.1, `head ${h}: the correction changes the outputs`);
  });
  const inInts = new Map(model.graph!.initializer!.filter((t) => t.dataType === 3).map((t) => [t.name!, Buffer.from(tensorToArray(t) as Int8Array)]));
  const outInts = folded.graph!.initializer!.filter((t) => t.dataType === 3 && inInts.has(t.name!) && t.name!.endsWith('_q'));
  assert.equal(outInts.length, 9);
  for (const t of outInts) assert.ok(Buffer.from(tensorToArray(t) as Int8Array).equals(inInts.get(t.name!)!), t.name!);
});

test('correct job: writes a valid corrected model, loss falls, the engine and memory are reported', async () => {
  const out = join(tmp, 'corrected.onnx');
  const progress: number[] = [];
  const ctx = {
    ...quietContext(),
    progress: (p: { metrics?: Record<string, number> }) => {
      if (p.metrics?.loss !== undefined) progress.push(p.metrics.loss);
    },
  };
  const r = await runCorrect({ model: MODEL, data: DATA, calib: 'calib', steps: 8, lr: 0.01, batch: 8, out, engine: 'cpu' }, ctx);
  assert.match(r.device, /^cpu \((\d+ shards x )?\d+ threads?\)$/);
  assert.equal(r.lossCurve.length, 8);
  assert.equal(r.calib.images, 8);
  assert.equal(r.calib.split, 'calib');
  assert.ok(r.microBatch >= 1 && r.microBatch <= 8);
  assert.ok(r.peakMemoryMB > 50, `peak ${r.peakMemoryMB} MB`);
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
  assert.equal(meta['qat_lens.qc.engine'], `onnxruntime ${r.device}`);
  assert.match(meta['qat_lens.qc.source_sha256'], /^[0-9a-f]{64}$/);
  assert.equal(meta.stride, '16', 'original metadata kept');
  const s = await ort.InferenceSession.create(out);
  const y = await s.run({ images: new ort.Tensor('float32', pixels(3 * 64 * 64), [1, 3, 64, 64]) });
  assert.deepEqual(y[s.outputNames[0]].dims, [1, 240, 7]);
  execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', out]);
});

test('a forced micro-batch gives the same run as the whole batch', async () => {
  const a = join(tmp, 'micro-a.onnx'),
    b = join(tmp, 'micro-b.onnx');
  const ra = await runCorrect({ model: MODEL, data: DATA, calib: 'calib', steps: 3, lr: 0.01, batch: 6, microBatch: 6, out: a, engine: 'cpu', evaluate: false }, quietContext());
  const rb = await runCorrect({ model: MODEL, data: DATA, calib: 'calib', steps: 3, lr: 0.01, batch: 6, microBatch: 4, out: b, engine: 'cpu', evaluate: false }, quietContext());
  assert.equal(ra.microBatch, 6);
  assert.equal(rb.microBatch, 4);
  ra.lossCurve.forEach((l, i) => assert.ok(Math.abs(l - rb.lossCurve[i]) <= 1e-5 * l, `step ${i + 1}: ${l} vs ${rb.lossCurve[i]}`));
});

test('cancelled QC leaves no file', async () => {
  const out = join(tmp, 'cancelled.onnx');
  const ac = new AbortController();
  const ctx = { ...quietContext(ac.signal), progress: () => ac.abort() };
  await assert.rejects(runCorrect({ model: MODEL, data: DATA, calib: 'calib', steps: 20, batch: 2, out, engine: 'cpu' }, ctx), CancelledError);
  assert.ok(!existsSync(out));
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.includes('cancelled')),
    [],
  );
});

test('the evaluation split is refused for calibration', async () => {
  await assert.rejects(resolveCalibration(DATA, 'val', 10), /evaluation split/);
  // The same images reached through another path are refused too.
  const other = join(tmp, 'other.yaml');
  writeFileSync(other, `path: ${fx('data')}\ncalib: images/val\nnames: [square, disc]\n`);
  await assert.rejects(resolveCalibration(DATA, other, 10), /4 of the 4 calibration images are evaluation images/);
  assert.equal((await resolveCalibration(DATA, undefined, 3)).images.length, 3);
  const out = join(tmp, 'never.onnx');
  await assert.rejects(runCorrect({ model: MODEL, data: DATA, calib: 'val', steps: 1, out, engine: 'cpu' }, quietContext()), /evaluation split/);
  assert.ok(!existsSync(out));
});

test('heads: anchors and strides read from the decode constants', async () => {
  const h = await findHeads(loadModel(MODEL), MODEL, SIZE);
  assert.deepEqual(h.strides, [8, 16]);
  assert.deepEqual(h.anchors, [
    [10, 13, 16, 30, 33, 23],
    [30, 61, 62, 45, 59, 119],
  ]);
  assert.equal(h.nc, 2);
});

test('an op the engine cannot train through is an error naming the op and the node', async () => {
  const m = loadModel(MODEL);
  const sig = m.graph!.node!.find((n) => n.opType === 'Sigmoid')!;
  sig.opType = 'Softsign'; // onnxruntime runs it; QC has no backward for it
  const layers = findQuantLayers(indexGraph(m.graph!));
  const heads = await findHeads(m, 'edited.onnx', SIZE);
  await assert.rejects(
    createGradEngine(m, 'edited.onnx', { engine: 'cpu', layers, heads: heads.outputs }),
    (e: Error) => /^edited\.onnx: /.test(e.message) && /Softsign/.test(e.message) && e.message.includes(sig.name!),
  );
});

test("the engine's heads (γ = 1, β = 0) equal onnxruntime's run of the bundled example (W4A4 and W3A3 QDQ, 320x320)", async () => {
  for (const bits of ['w4a4', 'w3a3']) {
    const path = join(__dirname, '..', '..', 'examples', 'shapes', bits, 'qdq.onnx');
    const model = loadModel(path);
    const layers = findQuantLayers(indexGraph(model.graph!));
    const heads = await findHeads(model, path, [320, 320]);
    const data = pixels(3 * 320 * 320);
    const engine = await createGradEngine(model, path, { engine: 'cpu', layers, heads: heads.outputs });
    const ours = await engine.forward(
      data,
      1,
      layers.map((l) => new Float32Array(l.channels).fill(1)),
      layers.map((l) => new Float32Array(l.channels)),
    );
    await engine.dispose();
    const graph = onnx.GraphProto.create({ ...model.graph!, output: heads.outputs.map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } })) });
    const s = await ort.InferenceSession.create(onnx.ModelProto.encode(onnx.ModelProto.create({ ...model, graph })).finish(), { graphOptimizationLevel: 'disabled' });
    const out = await s.run({ images: new ort.Tensor('float32', data, [1, 3, 320, 320]) });
    await s.release();
    heads.outputs.forEach((h, i) => assertFloatClose(ours[i], out[h].data as Float32Array, `${bits} head ${h}: |engine - ort|`));
  }
});

test("cosine schedule: YOLOv5's one-cycle from lr to lr·0.01; constant stays", () => {
  assert.equal(lrAt('cosine', 0.01, 0, 11), 0.01);
  assert.ok(Math.abs(lrAt('cosine', 0.01, 10, 11) - 1e-4) < 1e-12);
  assert.ok(Math.abs(lrAt('cosine', 0.01, 5, 11) - 0.00505) < 1e-12);
  assert.equal(lrAt('constant', 0.01, 7, 11), 0.01);
});

test('held-out step selection: the step kept has the best held-out mAP, and the written model scores it', async () => {
  const out = join(tmp, 'selected.onnx');
  const r = await runCorrect(
    { model: MODEL, data: DATA, calib: 'calib', epochs: 2, batch: 2, lr: 0.05, schedule: 'cosine', holdout: 3, selectEvery: 2, out, engine: 'cpu', evaluate: false },
    quietContext(),
  );
  assert.equal(r.calib.images, 5, '8 calibration images, 3 held out');
  assert.equal(r.steps, 5, 'ceil(2 epochs x 5 images / batch 2)');
  assert.equal(r.schedule, 'cosine');
  const h = r.heldOut!;
  assert.equal(h.images, 3);
  assert.deepEqual(
    h.curve.map((p) => p.step),
    [0, 2, 4, 5],
  );
  const best = h.curve.reduce((a, b) => (b.map > a.map ? b : a));
  assert.equal(h.keptStep, best.step);
  const meta = Object.fromEntries(loadModel(out).metadataProps!.map((e) => [e.key, e.value]));
  assert.match(meta['qat_lens.qc.kept_step'], new RegExp(`^${best.step} \\(best held-out`));
  // The written model is the kept step's: scored on the same held-out images it gives that mAP.
  const { dataset, images } = await labelledImages(DATA, 'calib');
  const ids = new Set(images.slice(-3).map((im) => im.id));
  const held = {
    ...dataset,
    images: dataset.images.filter((im) => ids.has(im.id)),
    gt: { ...dataset.gt, images: dataset.gt.images.filter((im) => ids.has(im.id)), annotations: dataset.gt.annotations.filter((a) => ids.has(a.image_id)) },
  };
  const ev = await evaluateModel(out, held, { engine: 'cpu' });
  assert.ok(Math.abs(ev.eval.stats[0] - best.map) < 1e-9, `${ev.eval.stats[0]} vs ${best.map}`);
});

test('qat-lens correct --backend (the former TensorFlow.js flag) is an error that names --engine; nothing is written', () => {
  const out = join(tmp, 'backend.onnx');
  const r = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'qat-lens.js'), 'correct', MODEL, '--data', DATA, '--out', out, '--backend', 'cpu'], { encoding: 'utf8' });
  assert.equal(r.status, 2, 'a usage error');
  assert.match(r.stderr.split('\n')[0], /^qat-lens correct: --backend .*gone.*--engine auto\|cpu\|webgpu\|cuda$/);
  assert.ok(!existsSync(out));
});

test('fliplr: a flipped image is the mirror of the unflipped one, its boxes mirrored (x -> 1 - x)', async () => {
  const { images } = await labelledImages(DATA, 'calib');
  const src = calibSource(images, SIZE);
  const plain = await src.batch([0, 1]);
  const flipped = await src.batch([0, 1], [{ flip: true }, { flip: false }]);
  const per = 3 * SIZE[0] * SIZE[1];
  for (let row = 0; row < 3 * SIZE[0]; row++) for (let x = 0; x < SIZE[1]; x++) assert.equal(flipped.images[row * SIZE[1] + x], plain.images[row * SIZE[1] + SIZE[1] - 1 - x]);
  assert.deepEqual(flipped.images.subarray(per), plain.images.subarray(per), 'image 1 not flipped');
  assert.ok(
    plain.targets.some((t) => t[0] === 0 && Math.abs(t[2] - 0.5) > 0.05),
    'a box off the vertical centre line',
  );
  plain.targets.forEach((t, k) => {
    const f = flipped.targets[k];
    assert.deepEqual([f[0], f[1], f[3], f[4], f[5]], [t[0], t[1], t[3], t[4], t[5]]);
    assert.ok(Math.abs(f[2] - (t[0] === 0 ? 1 - t[2] : t[2])) < 1e-12);
  });
  // The cache keeps the unflipped pixels: asking again without flips gives the original.
  assert.deepEqual((await src.batch([0])).images, plain.images.subarray(0, per));
});

/** The tiny data set plus a "holdout" split (copies of 3 calib images) and a "shared" split (the calib images themselves). */
let holdoutYaml: string | undefined;
function holdoutData(): string {
  if (holdoutYaml) return holdoutYaml;
  const dir = join(tmp, 'holdout-data');
  cpSync(join(__dirname, '..', 'fixtures', 'qc', 'data'), dir, { recursive: true });
  for (const sub of ['images', 'labels']) mkdirSync(join(dir, sub, 'holdout'), { recursive: true });
  for (const i of [5, 6, 7]) {
    cpSync(join(dir, 'images', 'calib', `00${i}.png`), join(dir, 'images', 'holdout', `h${i}.png`));
    cpSync(join(dir, 'labels', 'calib', `00${i}.txt`), join(dir, 'labels', 'holdout', `h${i}.txt`));
  }
  const yaml = join(dir, 'data.yaml');
  writeFileSync(yaml, 'path: .\ncalib: images/calib\nval: images/val\nholdout: images/holdout\nshared: images/calib\nnc: 2\nnames: [square, disc]\n');
  return (holdoutYaml = yaml);
}

test('--holdout SPLIT: the step is chosen on another split of the data set; val and shared images are refused', async () => {
  const yaml = holdoutData();
  const out = join(tmp, 'holdout-split.onnx');
  const base = { model: MODEL, data: yaml, calib: 'calib', steps: 3, batch: 4, lr: 0.05, selectEvery: 1, out, engine: 'cpu' as const, evaluate: false };
  const r = await runCorrect({ ...base, holdout: 'holdout' }, quietContext());
  assert.equal(r.calib.images, 8, 'all 8 calibration images train');
  assert.equal(r.heldOut!.images, 3);
  assert.equal(r.heldOut!.split, 'holdout');
  assert.deepEqual(
    r.heldOut!.curve.map((p) => p.step),
    [0, 1, 2, 3],
  );
  rmSync(out);
  await assert.rejects(runCorrect({ ...base, holdout: 'val' }, quietContext()), /refusing to choose the QC step on the evaluation split "val"/);
  await assert.rejects(runCorrect({ ...base, holdout: 'shared' }, quietContext()), /held-out split "shared" shares 8 images with the calibration images/);
  assert.ok(!existsSync(out), 'nothing written when refused');
});

test("--holdout auto: the data set's holdout split where it lists one, else no step choice", async () => {
  const base = { model: MODEL, calib: 'calib', steps: 2, batch: 4, lr: 0.05, selectEvery: 1, engine: 'cpu' as const, evaluate: false, holdout: 'auto' };
  const a = await runCorrect({ ...base, data: holdoutData(), out: join(tmp, 'auto-a.onnx') }, quietContext());
  assert.equal(a.heldOut!.split, 'holdout');
  assert.equal(a.heldOut!.images, 3);
  const b = await runCorrect({ ...base, data: DATA, out: join(tmp, 'auto-b.onnx') }, quietContext());
  assert.equal(b.heldOut, undefined, 'no holdout split: the last step');
});
