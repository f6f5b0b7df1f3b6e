// Re-quantizing latent weights at a higher bit-width: exact (integers, float32 scales, chosen
// clipping ratios, squared errors) against the numpy reference of
// tools/fixtures/precision/make_precision_fixtures.py, directly and through the what-if model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { findWeightChains } from '../../src/core/probe/probeGraph';
import { onnx, tensorToArray, tensorToFloat64 } from '../../src/core/onnx/proto';
import { CLIP_RATIOS, requantizePerChannel } from '../../src/core/precision/requantize';
import { loadPrecisionSource } from '../../src/core/precision/source';
import { buildWhatIf, refineActivation } from '../../src/core/precision/whatIf';

const FIX = join(__dirname, '..', 'fixtures', 'precision');
interface Case {
  name: string;
  bits: number;
  axis: number;
  shape: number[];
  latent: number[];
  integers: number[];
  scaleBits: number[];
  ratios: number[];
  sse: number[];
}
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as {
  ratios: number[];
  layers: { name: string; key: string; shape: number[]; requantized: Record<string, { integers: number[]; scaleBits: number[]; ratios: number[]; sse: number[] }> }[];
  cases: Case[];
  activations: { name: string; scale: number; zeroPoint: number; qmin: number; qmax: number }[];
};
const bitsOf = (s: Float32Array) => Array.from(new Uint32Array(s.buffer, s.byteOffset, s.length));

test('the clipping-ratio grid is the reference grid (1.00 down to 0.50)', () => {
  assert.deepEqual([...CLIP_RATIOS], expected.ratios);
});

test('per-channel min-MSE requantization equals the numpy reference exactly (8, 4 and 3 bits, axis 0 and 1)', () => {
  let clipped = 0;
  for (const c of expected.cases) {
    const r = requantizePerChannel(Float32Array.from(c.latent), c.shape, c.bits, c.axis);
    const what = `${c.name} at ${c.bits} bits`;
    assert.deepEqual(Array.from(r.integers), c.integers, `${what}: integers`);
    assert.deepEqual(bitsOf(r.scale), c.scaleBits, `${what}: float32 scales`);
    assert.deepEqual(Array.from(r.ratio), c.ratios, `${what}: clipping ratios`);
    assert.deepEqual(Array.from(r.sse), c.sse, `${what}: squared errors`);
    assert.equal(r.qmax, 2 ** (c.bits - 1) - 1);
    clipped += c.ratios.filter((x) => x < 1).length;
  }
  assert.ok(clipped >= 10, 'the fixture exercises the search (ratios below 1 chosen)');
});

test('the what-if model carries each layer re-quantized at 8 bits exactly as the reference, and runs', async () => {
  const src = await loadPrecisionSource(join(FIX, 'tiny_latent.onnx'));
  assert.deepEqual(
    src.layers.map((l) => [l.name, l.bits, l.act?.bits]),
    expected.layers.map((l) => [l.name, 4, 4]),
  );
  for (const bits of [8, 6]) {
    const w = buildWhatIf(
      src,
      src.layers.map((l) => l.key),
      { bits, activations: false },
    );
    const m = onnx.ModelProto.decode(w.bytes);
    const chains = findWeightChains(m, 'what-if');
    for (const e of expected.layers) {
      const c = chains.find((x) => x.node === e.name)!;
      const ref = e.requantized[String(bits)];
      assert.equal(c.pattern, 'integer');
      assert.deepEqual(Array.from(c.integers!), ref.integers, `${e.name} at ${bits}: integers`);
      assert.deepEqual(bitsOf(Float32Array.from(c.quant.scale)), ref.scaleBits, `${e.name} at ${bits}: scales`);
      assert.equal(c.quant.axis, 0);
      assert.deepEqual(Array.from(c.quant.zeroPoint), new Array(ref.scaleBits.length).fill(0));
    }
    const s = await ort.InferenceSession.create(w.bytes);
    const out = await s.run({ images: new ort.Tensor('float32', new Float32Array(3 * 64).fill(0.3), [1, 3, 8, 8]) });
    assert.equal(Object.values(out)[0].data.length, 5 * 64);
    await s.release();
  }
});

test('--activations refines the input quantizer to 8 bits on the same range (s/16, z·16, 0..255)', async () => {
  const src = await loadPrecisionSource(join(FIX, 'tiny_latent.onnx'));
  for (const a of expected.activations) {
    const l = src.layers.find((x) => x.name === a.name)!;
    const r = refineActivation(l.act!, 8)!;
    assert.deepEqual([r.scale[0], r.zeroPoint[0], r.qmin, r.qmax], [a.scale, a.zeroPoint, a.qmin, a.qmax]);
  }
  const w = buildWhatIf(src, [src.layers[1].key], { bits: 8, activations: true });
  assert.deepEqual(w.activations, [src.layers[1].key]);
  const m = onnx.ModelProto.decode(w.bytes);
  const inits = new Map(m.graph!.initializer!.map((t) => [t.name!, t]));
  const conv = m.graph!.node!.find((n) => n.name === 'model.1.conv')!;
  const dq = m.graph!.node!.find((n) => n.output![0] === conv.input![0])!;
  assert.equal(dq.opType, 'DequantizeLinear');
  assert.equal(tensorToFloat64(inits.get(dq.input![1])!)[0], expected.activations[1].scale);
  const clip = m.graph!.node!.find((n) => n.output![0] === dq.input![0])!;
  assert.deepEqual([tensorToArray(inits.get(clip.input![1])!)[0], tensorToArray(inits.get(clip.input![2])!)[0]], [0, 255]);
  // The old 4-bit chain of that layer is gone; the other layers keep theirs.
  assert.equal(m.graph!.node!.filter((n) => n.name === 'model.1.conv.input_quantizer.quantize').length, 0);
  assert.equal(m.graph!.node!.filter((n) => n.name === 'model.2.conv.input_quantizer.quantize').length, 1);
});
