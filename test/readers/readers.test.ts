// Every reader against real files made by PyTorch 1.13 / onnx 1.12 (tools/fixtures/make_reader_fixtures.py)
// and the numbers numpy computed for them (expected.json).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../src/core/readers/index';
import { FIXTURES, checkCheckpoint, expected } from '../helpers/readersExpect';

for (const [file, e] of Object.entries(expected).filter(([k]) => !k.startsWith('_'))) {
  test(`reads ${file}`, async () => {
    const ck = await readCheckpoint(join(FIXTURES, file), e.bits ? { bits: e.bits } : {});
    checkCheckpoint(ck, e);
  });
}

test('ONNX: Clip narrows the int8 container to 4 bits; activation Q/DQ pairs feed and follow layers', async () => {
  const ck = await readCheckpoint(join(FIXTURES, 'onnx_torch_qclipdq.onnx'));
  const [conv1, conv2] = ck.variants[0].layers;
  assert.equal(conv1.weightQuantizer.bitsSource, 'clip');
  assert.equal(conv1.weightQuantizer.axis, 0);
  assert.equal(conv2.weightQuantizer.axis, null);
  // conv1 -> SiLU (Sigmoid, Mul) -> Q/DQ -> conv2: the same pair is conv1's output and conv2's input.
  assert.equal(conv1.outputQuantizer, conv2.inputQuantizer);
  assert.deepEqual([conv1.inputQuantizer!.qmin, conv1.inputQuantizer!.qmax], [-8, 7]);
  assert.deepEqual(
    ck.variants[0].activations.map((a) => a.name),
    ['images', '/act/Mul_output_0'],
  );
  assert.equal(conv1.graph?.node.includes('Conv'), true);
  assert.match(ck.notes.join('\n'), /Clip/);
});

test('state_dict without recorded bit-widths asks for --bits; --bits is reported as the source', async () => {
  const file = join(FIXTURES, 'lsq_state_dict.pt');
  await assert.rejects(readCheckpoint(file), (err: Error) => /--bits/.test(err.message) && err.message.includes(file));
  const ck = await readCheckpoint(file, { bits: 3 });
  assert.match(ck.notes.join('\n'), /--bits 3/);
  await assert.rejects(readCheckpoint(file, { bits: 1 }), /--bits must be an integer from 2 to 16/);
});

test('YOLOv5-style checkpoint: model and ema are both read, from FP16, and differ', async () => {
  const ck = await readCheckpoint(join(FIXTURES, 'yolov5_style_fp16.pt'));
  const [model, ema] = ck.variants;
  assert.equal(model.layers[0].weight.storedDtype, 'float16');
  assert.ok(model.layers[0].weight.latent instanceof Float32Array);
  assert.notDeepEqual(Array.from(model.layers[0].weight.latent!), Array.from(ema.layers[0].weight.latent!));
  assert.match(ck.notes.join('\n'), /model\.3\.m\.0/); // the float Detect conv is left out, and said so
  assert.match(ck.notes.join('\n'), /float16/);
});

test('the reader is chosen by content, not by extension', async () => {
  const { copyFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'qat-readers-'));
  try {
    const renamed = join(dir, 'checkpoint.bin');
    copyFileSync(join(FIXTURES, 'onnx_int8_axis.onnx'), renamed);
    assert.equal((await readCheckpoint(renamed)).format, 'onnx');
    const st = join(dir, 'weights.pt');
    copyFileSync(join(FIXTURES, 'lsq_fp16.safetensors'), st);
    assert.equal((await readCheckpoint(st)).format, 'safetensors');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('torch.ao ConvBn: the report says the BatchNorm was folded (values: see expected.json, computed by torch)', async () => {
  const ck = await readCheckpoint(join(FIXTURES, 'torch_ao_convbn_state_dict.pt'), { bits: 4 });
  assert.match(ck.notes.join('\n'), /1 layer\(s\) quantize their weight with BatchNorm folded in .*: conv$/m);
});
