// The what-if model changes only the chosen layers: every other layer's integer weights, scales and
// zero points (and every untouched initializer) are bit-identical to the source's; on the bundled
// example (integer ONNX + .pt) and on the tiny latent-weight fixture. An ONNX without latent weights
// and without a checkpoint is a clear error that says what to pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { QatLensError } from '../../src/core/errors';
import { onnx } from '../../src/core/onnx/proto';
import { findWeightChains, type WeightChain } from '../../src/core/probe/probeGraph';
import { hardIntegers } from '../../src/core/probe/probeMath';
import { loadPrecisionSource } from '../../src/core/precision/source';
import { buildWhatIf } from '../../src/core/precision/whatIf';

const ROOT = join(__dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'precision');
const EX = join(ROOT, 'examples', 'shapes');

const bytesOf = (t: onnx.ITensorProto) => Buffer.from(onnx.TensorProto.encode(t).finish()).toString('base64');
/** The integer state a chain deploys: stored integers, or QuantizeLinear's at run time. */
const ints = (c: WeightChain) => Array.from(c.integers ?? hardIntegers(c.latent!, c.shape, c.quant));

async function checkUntouched(file: string, latent: string | undefined, pick: number[], activations: boolean, keepWeights = false): Promise<number> {
  const src = await loadPrecisionSource(file, latent);
  const keys = pick.map((i) => src.layers[i].key);
  const w = buildWhatIf(src, keys, { bits: 8, activations, keepWeights });
  if (activations) assert.deepEqual(w.activations, keys);
  const m = onnx.ModelProto.decode(w.bytes);
  const before = findWeightChains(src.probe.model, file);
  const after = findWeightChains(m, 'what-if');
  assert.equal(after.length, before.length);
  let checked = 0;
  for (const b of before) {
    const a = after.find((x) => x.node === b.node)!;
    if (keys.includes(b.name) && !keepWeights) {
      assert.equal(a.pattern, 'integer');
      assert.equal(a.quant.scale.length, b.shape[0], `${b.node}: per-channel scales`);
      continue;
    }
    assert.equal(a.name, b.name, `${b.node}: same weight tensor`);
    assert.deepEqual(ints(a), ints(b), `${b.node}: integer weights`);
    assert.deepEqual(Array.from(a.quant.scale), Array.from(b.quant.scale));
    assert.deepEqual(Array.from(a.quant.zeroPoint), Array.from(b.quant.zeroPoint));
    assert.deepEqual([a.quant.qmin, a.quant.qmax], [b.quant.qmin, b.quant.qmax]);
    checked++;
  }
  // Every initializer of the source that the what-if still uses is byte-identical; the only ones
  // gone are those of the replaced chains.
  const srcInits = new Map(src.probe.model.graph!.initializer!.map((t) => [t.name!, t]));
  const gone = [...srcInits.keys()].filter((n) => !m.graph!.initializer!.some((t) => t.name === n));
  for (const t of m.graph!.initializer!) if (srcInits.has(t.name!)) assert.equal(bytesOf(t), bytesOf(srcInits.get(t.name!)!), `initializer ${t.name}`);
  for (const n of gone)
    assert.ok(
      keys.some((k) => n.startsWith(k.replace(/(\.weight_int|\.weight)$/, ''))),
      `only the chosen layers' tensors go (${n})`,
    );
  if (keepWeights)
    assert.ok(
      gone.every((n) => /input_quantizer/.test(n)),
      'activations only: no weight tensor goes',
    );
  // Nodes other than the chosen layers' chains (and the rewired consumers) are the source's.
  const srcNodes = new Map(src.probe.model.graph!.node!.map((n) => [n.name!, n]));
  const layerNames = pick.map((i) => src.layers[i].node);
  for (const n of m.graph!.node!) {
    const o = srcNodes.get(n.name!);
    if (!o || layerNames.includes(n.name!)) continue;
    assert.equal(Buffer.from(onnx.NodeProto.encode(n).finish()).toString('hex'), Buffer.from(onnx.NodeProto.encode(o).finish()).toString('hex'), `node ${n.name}`);
  }
  return checked;
}

test('the bundled W4A4 example (integer ONNX + .pt): every other layer bit-identical, weights and activations', async () => {
  const n = await checkUntouched(join(EX, 'w4a4', 'qdq.onnx'), join(EX, 'w4a4', 'epoch_28.pt'), [3, 17, 40], true);
  assert.equal(n, 57);
});

test("activations only: every layer's weights bit-identical, the chosen layers' inputs at 8 bits", async () => {
  assert.equal(await checkUntouched(join(EX, 'w3a3', 'qdq.onnx'), join(EX, 'w3a3', 'epoch_27.pt'), [5, 30], true, true), 60);
});

test('the tiny latent-weight fixture: every other layer bit-identical', async () => {
  assert.equal(await checkUntouched(join(FIX, 'tiny_latent.onnx'), undefined, [1], false), 2);
  assert.equal(await checkUntouched(join(FIX, 'tiny_latent.onnx'), undefined, [0, 2], true), 1);
});

test('layers are named as the checkpoint names them (.pt module names), else by ONNX node name', async () => {
  const pt = await loadPrecisionSource(join(EX, 'w3a3', 'qdq.onnx'), join(EX, 'w3a3', 'epoch_27.pt'));
  assert.equal(pt.layers[2].name, 'model.2.cv1.conv');
  assert.equal(pt.layers[2].key, 'model.2.cv1.conv.weight_int');
  assert.deepEqual([pt.layers[1].bits, pt.layers[1].act?.bits, pt.layers[0].bits], [3, 3, 8]);
  const ox = await loadPrecisionSource(join(FIX, 'tiny_latent.onnx'));
  assert.deepEqual(
    ox.layers.map((l) => l.name),
    ['model.0.conv', 'model.1.conv', 'model.2.conv'],
  );
  assert.match(ox.naming, /ONNX node names/);
});

test('an ONNX with integer weights only and no checkpoint: one clear error naming the file and --latent', async () => {
  const file = join(FIX, 'tiny_int.onnx');
  await assert.rejects(loadPrecisionSource(file), (e: unknown) => e instanceof QatLensError && e.code === 'ENOLATENT' && e.message.startsWith(file) && /--latent CHECKPOINT\.pt/.test(e.message));
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'qat-lens.js'), 'precision', file, '--data', join(EX, 'data.yaml')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  const lines = r.stderr.split(/[\r\n]+/).filter((l) => l.startsWith('qat-lens precision:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^qat-lens precision: \S*tiny_int\.onnx: stores its quantized weights as integers only.*pass --latent CHECKPOINT\.pt/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
