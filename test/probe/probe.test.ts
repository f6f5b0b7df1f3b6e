// Soft-rounding probe on a tiny real QDQ model run by onnxruntime: δ = 0 is hard quantization
// exactly, a soft variant changes exactly the near-threshold weights, latent is the latent weights.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { analyzeLayer, nearCount } from '../../src/core/analysis/layerStats';
import { readOnnxModel } from '../../src/core/readers/onnx';
import { encodeModel, findWeightChains } from '../../src/core/probe/probeGraph';
import { hardIntegers, softRound } from '../../src/core/probe/probeMath';
import { DataType, makeTensor } from '../../src/core/onnx/proto';
import { readCheckpoint } from '../../src/core/readers';
import { loadProbeSource } from '../../src/core/probe/probeSource';
import { buildVariant } from '../../src/core/probe/probeVariants';
import { buildModel, input, latentWeights, QMAX, QMIN, SCALES, SHAPE } from '../helpers/probeFixture';

const dir = mkdtempSync(join(tmpdir(), 'qat-lens-probe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(bytes: Uint8Array): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  return s.run({ x: new ort.Tensor('float32', input(), [1, 3, 6, 6]) });
}

function write(name: string, model: ReturnType<typeof buildModel>): string {
  const f = join(dir, name);
  writeFileSync(f, encodeModel(model));
  return f;
}

test('δ = 0 reproduces the integers onnxruntime QuantizeLinear+Clip computes, and the model outputs', async () => {
  const file = write('latent.onnx', buildModel('latent'));
  const src = await loadProbeSource(file);
  assert.equal(src.layers.length, 1);
  assert.deepEqual([src.layers[0].quant.qmin, src.layers[0].quant.qmax], [QMIN, QMAX]);
  const orig = await run(encodeModel(src.model));
  const ortInts = Array.from(orig.w_qc.data as Int8Array);
  const hard = softRound(src.layers[0].latent, SHAPE, src.layers[0].quant, 0);
  assert.deepEqual(Array.from(hard.values), ortInts);
  assert.equal(hard.soft, 0);
  // The fixture has exact ties: half-to-even matters there.
  assert.ok(hard.values.some((v, i) => Math.abs((latentWeights()[i] / SCALES[Math.floor(i / 27)]) % 1) === 0.5 && v % 2 === 0));

  const v = buildVariant(src, { kind: 'hard' });
  assert.equal(v.model.graph!.node!.filter((n) => n.opType === 'QuantizeLinear').length, 1, 'only the activation quantizer is left');
  const out = await run(v.bytes);
  assert.deepEqual(Array.from(out.y.data as Float32Array), Array.from(orig.y.data as Float32Array));
});

test('soft δ changes exactly the in-range weights with d < δ; the count equals the analysis near-threshold count', async () => {
  const file = write('latent2.onnx', buildModel('latent'));
  const src = await loadProbeSource(file);
  const layer = readOnnxModel(file, src.model).variants[0].layers[0];
  const hard = buildVariant(src, { kind: 'hard' });
  const hw = hard.model.graph!.initializer!.find((t) => t.name === 'w_dq')!;
  for (const delta of [0.05, 0.1, 0.25]) {
    const v = buildVariant(src, { kind: 'soft', delta });
    const sw = v.model.graph!.initializer!.find((t) => t.name === 'w_dq')!;
    const a = new Float32Array(hw.rawData!.slice().buffer),
      b = new Float32Array(sw.rawData!.slice().buffer);
    let changed = 0,
      clampedToLevel = 0;
    const lat = latentWeights();
    for (let i = 0; i < a.length; i++) {
      const u = lat[i] / SCALES[Math.floor(i / 27)];
      // In range below qmin (u in [qmin - 0.5, qmin)): soft, but clamped back onto the level qmin.
      if (u >= QMIN - 0.5 && u < QMIN && Math.abs(u - Math.floor(u) - 0.5) < delta) clampedToLevel++;
      if (u <= QMAX + 0.5 && u > QMAX && Math.abs(u - Math.floor(u) - 0.5) < delta) clampedToLevel++;
      if (a[i] !== b[i]) {
        changed++;
        assert.ok(Math.abs(u - Math.floor(u) - 0.5) < delta, `weight ${i} changed but is not near a threshold`);
        assert.equal(b[i], Math.fround(Math.min(QMAX, Math.max(QMIN, u)) * SCALES[Math.floor(i / 27)]));
      }
    }
    const stats = analyzeLayer(layer, delta);
    assert.equal(v.soft, nearCount(stats), `δ=${delta}`);
    assert.equal(changed, v.soft - clampedToLevel, `δ=${delta}: every soft weight not clamped onto a level moved`);
    assert.ok(v.soft > 0);
  }
  const out = await run(buildVariant(src, { kind: 'soft', delta: 0.25 }).bytes);
  const ref = await run(hard.bytes);
  assert.notDeepEqual(Array.from(out.y.data as Float32Array), Array.from(ref.y.data as Float32Array));
});

test('latent variant carries the latent weights exactly; activation Q/DQ stays', async () => {
  const file = write('latent3.onnx', buildModel('latent'));
  const src = await loadProbeSource(file);
  const v = buildVariant(src, { kind: 'latent' });
  const w = v.model.graph!.initializer!.find((t) => t.name === 'w_dq')!;
  assert.deepEqual(Array.from(new Float32Array(w.rawData!.slice().buffer)), Array.from(latentWeights()));
  assert.deepEqual(
    v.model.graph!.node!.map((n) => n.opType),
    ['QuantizeLinear', 'DequantizeLinear', 'Conv'],
  );
});

test('integer-only ONNX: hard variant equals the stored integers; no latent source is a clear error', async () => {
  const ints = Array.from((await run(encodeModel(buildModel('latent')))).w_qc.data as Int8Array);
  const file = write('int.onnx', buildModel('integer', ints));
  const chains = findWeightChains(buildModel('integer', ints), file);
  assert.equal(chains[0].pattern, 'integer');
  assert.deepEqual(Array.from(chains[0].integers!), ints);
  await assert.rejects(loadProbeSource(file), (e: Error) => e.message.includes(file) && /--pt CHECKPOINT/.test(e.message));
});

test('integer-only ONNX + PyTorch checkpoint: layers paired by name, hard = stored integers, latent = checkpoint weights; a wrong checkpoint is refused', async () => {
  const pt = join(__dirname, '..', 'fixtures', 'readers', 'lsq_module.pt');
  const ck = await readCheckpoint(pt);
  const layers = ck.variants[0].layers.filter((l) => l.op === 'Conv');
  // An integer QDQ export of the checkpoint's convs (int8 containers: the 3/4-bit range is not in the file).
  const build = (tamper: boolean) => {
    const inits: ReturnType<typeof makeTensor>[] = [];
    const nodes: { opType: string; input: string[]; output: string[]; name: string; attribute?: { name: string; type: number; i: number }[] }[] = [];
    let x = 'x';
    for (const l of layers) {
      const q = l.weightQuantizer;
      const ints = hardIntegers(l.weight.latent!, l.weight.shape, { scale: q.scale, zeroPoint: q.zeroPoint, axis: q.axis, qmin: q.qmin, qmax: q.qmax });
      if (tamper) for (let i = 0; i < ints.length; i += 7) ints[i] = ints[i] === q.qmax ? q.qmin : ints[i] + 1;
      inits.push(makeTensor(`${l.name}.weight_quantized`, l.weight.shape, ints, DataType.INT8));
      inits.push(makeTensor(`${l.name}.s`, [q.scale.length], Array.from(q.scale), DataType.FLOAT));
      inits.push(makeTensor(`${l.name}.bias`, [l.weight.shape[0]], Array.from(l.bias!), DataType.FLOAT));
      nodes.push({
        opType: 'DequantizeLinear',
        input: [`${l.name}.weight_quantized`, `${l.name}.s`],
        output: [`${l.name}.w`],
        name: `dq_${l.name}`,
        attribute: q.scale.length > 1 ? [{ name: 'axis', type: 2, i: 0 }] : [],
      });
      nodes.push({ opType: 'Conv', input: [x, `${l.name}.w`, `${l.name}.bias`], output: [`${l.name}.y`], name: l.name, attribute: [] });
      x = `${l.name}.y`;
    }
    return { irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph: { name: 'g', node: nodes, initializer: inits, input: [], output: [{ name: x }] } };
  };
  const file = write('int_pt.onnx', build(false) as never);
  const src = await loadProbeSource(file, { pt });
  assert.equal(src.integerMismatches, 0);
  assert.deepEqual(
    src.layers.map((l) => l.latentName),
    layers.map((l) => l.name),
  );
  for (const [i, l] of src.layers.entries()) {
    assert.equal(l.quant.qmin, layers[i].weightQuantizer.qmin, 'integer range from the checkpoint, not the int8 container');
    assert.deepEqual(Array.from(l.latent), Array.from(layers[i].weight.latent!));
  }
  const hard = buildVariant(src, { kind: 'hard' });
  const soft = buildVariant(src, { kind: 'soft', delta: 0.25 });
  assert.ok(soft.soft > 0 && hard.soft === 0);
  for (const l of hard.layers) assert.equal(l.soft, 0);
  const bad = write('int_pt_bad.onnx', build(true) as never);
  await assert.rejects(loadProbeSource(bad, { pt }), (e: Error) => /not the weights this ONNX was exported from/.test(e.message) && e.message.includes(bad));
});
