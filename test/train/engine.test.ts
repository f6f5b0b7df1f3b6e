// The whole generated gradient: on the tiny torch-made QDQ detector against the tfjs executor's vjp,
// live; on the bundled example against the recorded tfjs vjp (test/fixtures/train/example_vjp.json);
// forward heads against onnxruntime's plain inference of the original model; micro-batches summing to
// the whole batch's gradient; an op without a backward on the path named in the error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { loadModel } from '../../src/core/onnx/proto';
import { buildTrainGraphs, createGradEngine } from '../../src/core/train/engine';
import { discoverCase, tfjsVjp } from '../helpers/tfjsVjp';
import { caseInputs, maxRelDiff, plainHeads, type CaseSpec } from '../helpers/trainCase';

const ROOT = join(__dirname, '..', '..');
const TINY = join(ROOT, 'test', 'fixtures', 'qc', 'tiny_qdq.onnx');
const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'train', 'example_vjp.json'), 'utf8')) as { spec: CaseSpec; dGamma: number[][]; dBeta: number[][] };
const EXAMPLE: CaseSpec = { ...fixture.spec, file: join(ROOT, fixture.spec.file) };

const ones = (c: CaseSpec) => ({ gamma: c.layers.map((l) => new Float32Array(l.channels).fill(1)), beta: c.layers.map((l) => new Float32Array(l.channels)) });

async function engineRun(c: CaseSpec) {
  const e = await createGradEngine(loadModel(c.file), c.file, { layers: c.layers, heads: c.heads, engine: 'cpu' });
  const inp = caseInputs(c);
  try {
    const id = ones(c);
    const plain = await e.forward(inp.images, c.batch, id.gamma, id.beta);
    const heads = await e.forward(inp.images, c.batch, inp.gamma, inp.beta);
    const grads = await e.backward(inp.images, c.batch, inp.gamma, inp.beta, inp.dHeads);
    return { e, inp, plain, heads, grads };
  } finally {
    await e.dispose();
  }
}

test('tiny QDQ detector: heads and dγ/dβ equal the tfjs executor\'s vjp; γ = 1, β = 0 heads equal plain onnxruntime inference', async (t) => {
  const c = await discoverCase(TINY, [64, 64], 2, 3);
  const r = await engineRun(c);
  assert.match(r.e.device, /^cpu \(\d+ threads?\)$/);
  const plain = maxRelDiff(r.plain, await plainHeads(c.file, c.heads, r.inp.images, c.batch, c.size));
  assert.ok(plain.worst <= 1e-6, `heads vs plain inference: ${plain.worst}`);
  const ref = await tfjsVjp(c);
  const heads = maxRelDiff(r.heads, ref.heads), dg = maxRelDiff(r.grads.dGamma, ref.dGamma), db = maxRelDiff(r.grads.dBeta, ref.dBeta);
  t.diagnostic(`heads ${heads.worst.toExponential(2)}, dγ ${dg.worst.toExponential(2)}, dβ ${db.worst.toExponential(2)} of each layer's largest`);
  // Observed: heads 7e-8, dγ 4e-7, dβ 3e-7 (float32 summation order).
  assert.ok(heads.worst <= 1e-6, `heads: ${heads.worst}`);
  assert.ok(dg.worst <= 1e-5 && db.worst <= 1e-5, `dγ ${dg.worst} (layer ${dg.at}), dβ ${db.worst} (layer ${db.at})`);
});

test('bundled example (W4A4, 320x320, batch 1): dγ/dβ equal the recorded tfjs vjp; plain heads equal onnxruntime inference', async (t) => {
  const c = EXAMPLE;
  const r = await engineRun(c);
  const plain = maxRelDiff(r.plain, await plainHeads(c.file, c.heads, r.inp.images, c.batch, c.size));
  assert.ok(plain.worst <= 1e-6, `heads vs plain inference: ${plain.worst}`);
  const dg = maxRelDiff(r.grads.dGamma, fixture.dGamma), db = maxRelDiff(r.grads.dBeta, fixture.dBeta);
  // Layers up to the SPPF block feed its MaxPools; there onnxruntime's Sigmoid (MLAS, up to 2e-3
  // relative from exp-based sigmoid in the far tail) breaks a few near-ties of SiLU outputs the other
  // way, and the gradient goes to a neighbouring pixel: observed ≤ 4.5e-3 of the layer's largest
  // gradient (tolerance 1e-2). Past it (model.9.cv1 on) the gradients agree to float32 rounding:
  // observed ≤ 2.2e-6 (tolerance 2e-5).
  const sppf = c.layers.findIndex((l) => l.name.startsWith('model.9.'));
  assert.ok(sppf > 0);
  for (const [name, d] of [['dγ', dg], ['dβ', db]] as const) {
    assert.ok(d.worst <= 1e-2, `${name}: ${d.worst} at layer ${c.layers[d.at]?.name}`);
    const after = Math.max(...d.per.slice(sppf));
    t.diagnostic(`${name}: worst ${d.worst.toExponential(2)} of the layer's largest (|diff| ≤ ${d.abs.toExponential(2)}), ${after.toExponential(2)} after the SPPF`);
    assert.ok(after <= 2e-5, `${name} after the SPPF MaxPools: ${after}`);
  }
});

test('micro-batches: the gradients of two halves sum to the whole batch\'s', async () => {
  const c = await discoverCase(TINY, [64, 64], 4, 5);
  const inp = caseInputs(c);
  const e = await createGradEngine(loadModel(c.file), c.file, { layers: c.layers, heads: c.heads, engine: 'cpu', threads: 1 });
  try {
    const whole = await e.backward(inp.images, 4, inp.gamma, inp.beta, inp.dHeads);
    const half = (a: Float32Array, k: number, n: number) => a.subarray((k * a.length) / n, ((k + 1) * a.length) / n);
    const parts = await Promise.all([0, 1].map((k) => e.backward(half(inp.images, k, 2), 2, inp.gamma, inp.beta, inp.dHeads.map((d) => half(d, k, 2)))));
    const sum = (get: (p: typeof whole) => Float32Array[]) => get(parts[0]).map((a, i) => a.map((v, j) => v + get(parts[1])[i][j]));
    const dg = maxRelDiff(sum((p) => p.dGamma), whole.dGamma), db = maxRelDiff(sum((p) => p.dBeta), whole.dBeta);
    assert.ok(dg.worst <= 1e-5 && db.worst <= 1e-5, `dγ ${dg.worst}, dβ ${db.worst}`);
    assert.ok(whole.dGamma.some((a) => a.some((v) => v !== 0)));
  } finally {
    await e.dispose();
  }
});

test('an op without a backward between a layer and a head is an error naming the op and node', async () => {
  const model = loadModel(EXAMPLE.file);
  const sig = model.graph!.node!.find((n) => n.name === 'model.2.m.0.cv1.conv.act.sigmoid')!;
  sig.opType = 'Tanh';
  await assert.rejects(buildTrainGraphs(model, 'bad.onnx', EXAMPLE),
    /bad\.onnx: QC cannot train through Tanh 'model\.2\.m\.0\.cv1\.conv\.act\.sigmoid': no backward for Tanh/);
});
