// Probe on a real (tiny, committed) QDQ YOLO detector run by onnxruntime over real images: δ = 0
// reproduces the deployed model's outputs, and the per-layer probe ranks every quantized layer.
// The detector stores int8 weights; a latent-weight twin is made here by putting each weight at a
// seeded random point inside its rounding bin (so it rounds back to the same integer) behind
// QuantizeLinear -> Clip -> DequantizeLinear, the torch export's pattern.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { quietContext } from '../../src/core/context';
import { DataType, loadModel, makeTensor, type onnx } from '../../src/core/onnx/proto';
import { encodeModel, findWeightChains } from '../../src/core/probe/probeGraph';
import { perLayerOutputChange, probeInputs } from '../../src/core/probe/probeOutputs';
import { loadProbeSource } from '../../src/core/probe/probeSource';
import { buildVariant } from '../../src/core/probe/probeVariants';

const fx = join(__dirname, '..', 'fixtures', 'pipeline');
const dir = mkdtempSync(join(tmpdir(), 'qat-lens-probe-layer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function latentTwin(): { file: string; integers: Map<string, Int32Array> } {
  const f = join(fx, 'qdq.onnx');
  const m = loadModel(f);
  const chains = findWeightChains(m, f);
  let seed = 5;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296;
  const g = m.graph!;
  const integers = new Map<string, Int32Array>();
  for (const c of chains) {
    const dq = c.chainNodes[0];
    const sc = c.quant.scale;
    const inner = c.shape.slice(1).reduce((a, b) => a * b, 1);
    const w = Float32Array.from(c.integers!, (q, i) => sc[Math.floor(i / inner)] * (q + (rnd() - 0.5) * 0.96));
    const latentName = `${c.name}_latent`;
    integers.set(latentName, c.integers!);
    g.initializer!.push(makeTensor(latentName, c.shape, w, DataType.FLOAT));
    g.initializer!.push(makeTensor(`${c.name}_lo`, [], [-8], DataType.INT8), makeTensor(`${c.name}_hi`, [], [7], DataType.INT8));
    const qOut = `${c.name}_qi`,
      clipOut = `${c.name}_qc`;
    const axis = dq.attribute ?? [];
    const idx = g.node!.indexOf(dq);
    g.node!.splice(
      idx,
      0,
      { opType: 'QuantizeLinear', name: `${c.name}_Q`, input: [latentName, dq.input![1], dq.input![2]].filter(Boolean), output: [qOut], attribute: axis } as onnx.INodeProto,
      { opType: 'Clip', name: `${c.name}_Clip`, input: [qOut, `${c.name}_lo`, `${c.name}_hi`], output: [clipOut] } as onnx.INodeProto,
    );
    dq.input![0] = clipOut;
  }
  const file = join(dir, 'qdq_latent.onnx');
  writeFileSync(file, encodeModel(m));
  return { file, integers };
}

async function outputs(bytes: Uint8Array, xs: ort.Tensor[]): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic' });
  const r: Float32Array[] = [];
  for (const x of xs) r.push((await s.run({ [s.inputNames[0]]: x }))[s.outputNames[0]].data as Float32Array);
  await s.release();
  return r;
}

test('δ = 0 on a latent QDQ detector: the integers and the outputs of the int8 model it came from', async () => {
  const { file, integers } = latentTwin();
  const src = await loadProbeSource(file);
  assert.equal(src.layers.length, 6);
  const hard = buildVariant(src, { kind: 'hard' });
  for (const l of src.layers) {
    assert.equal(l.chain.pattern, 'latent');
    assert.equal(l.quant.qmin, -8);
    const w = hard.model.graph!.initializer!.find((t) => t.name === l.chain.dqOutput)!;
    const got = new Float32Array(w.rawData!.slice().buffer);
    const q = integers.get(l.chain.name)!;
    const inner = l.chain.shape.slice(1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < q.length; i++) assert.equal(got[i], Math.fround(l.quant.scale[Math.floor(i / inner)] * q[i]), `${l.chain.name}[${i}]`);
  }
  const xs = await probeInputs(join(fx, 'data.yaml'), src.model, 2);
  const [a, b, c] = await Promise.all([outputs(hard.bytes, xs), outputs(encodeModel(loadModel(join(fx, 'qdq.onnx'))), xs), outputs(encodeModel(src.model), xs)]);
  for (let k = 0; k < xs.length; k++) {
    assert.deepEqual(Array.from(a[k]), Array.from(b[k]), 'hard variant = the int8 QDQ model');
    assert.deepEqual(Array.from(a[k]), Array.from(c[k]), 'hard variant = the latent QDQ model');
  }
});

test('per-layer probe: every layer ranked by output change, largest first; soft-rounding nothing changes nothing', async () => {
  const { file } = latentTwin();
  const src = await loadProbeSource(file);
  const xs = await probeInputs(join(fx, 'data.yaml'), src.model, 2);
  const ranked = await perLayerOutputChange(src, xs, 0.25, quietContext());
  assert.equal(ranked.length, 6);
  for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].meanSquaredChange >= ranked[i].meanSquaredChange);
  assert.ok(ranked[0].meanSquaredChange > 0 && ranked[0].softWeights > 0);
  // With weights spread evenly over their bins, about 2δ = half of each layer is soft-rounded.
  for (const l of ranked) {
    const n = l.shape.reduce((x, y) => x * y, 1);
    assert.ok(l.softWeights > 0.35 * n && l.softWeights < 0.65 * n, `${l.name}: ${l.softWeights} of ${n}`);
  }
  const none = await perLayerOutputChange(src, xs, 1e-9, quietContext(), [ranked[0].name]);
  assert.equal(none[0].softWeights, 0);
  assert.equal(none[0].meanSquaredChange, 0);
});
