// Format sniffing by structure: safetensors whose header length starts with 0x80 (640, 896, 1152,
// 1408 bytes) are safetensors, not pickles; ONNX is recognised by a bounded structural decode.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readCheckpoint, sniffFormat } from '../../src/core/readers/index';
import { FIXTURES } from '../helpers/readersExpect';
import { safetensorsFile } from '../helpers/hostileFiles';

const dir = mkdtempSync(join(tmpdir(), 'qat-sniff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const W = Float32Array.from({ length: 18 }, (_, i) => (i - 9) / 40);
const header = {
  'conv.weight': { dtype: 'F32', shape: [2, 1, 3, 3], data_offsets: [0, 72] },
  'conv.quan_w_fn.s': { dtype: 'F32', shape: [], data_offsets: [72, 76] },
};
const data = Buffer.concat([Buffer.from(W.buffer), Buffer.from(new Float32Array([0.05]).buffer)]);

test('safetensors with header lengths 640, 896, 1152 and 1408 (first byte 0x80) read as safetensors', async () => {
  for (const len of [640, 896, 1152, 1408]) {
    const bytes = safetensorsFile(header, data, len);
    assert.equal(bytes[0], 0x80);
    assert.equal(sniffFormat(bytes), 'safetensors');
    const f = join(dir, `h${len}.pt`); // a misleading extension: the structure decides
    writeFileSync(f, bytes);
    const ck = await readCheckpoint(f, { bits: 4 });
    assert.equal(ck.format, 'safetensors');
    const l = ck.variants[0].layers[0];
    assert.equal(l.name, 'conv');
    assert.deepEqual(Array.from(l.weight.latent!), Array.from(W));
    assert.equal(l.weightQuantizer.scale[0], Math.fround(0.05));
  }
});

test('a header length larger than the file is not safetensors; a real pickle is still a pickle', () => {
  const b = Buffer.alloc(32);
  b.writeBigUInt64LE(1000n);
  b[8] = 0x7b;
  assert.equal(sniffFormat(b), 'unknown');
  assert.equal(sniffFormat(readFileSync(join(FIXTURES, 'lsq_module_legacy.pt'))), 'pytorch-legacy');
  assert.equal(sniffFormat(readFileSync(join(FIXTURES, 'lsq_module.pt'))), 'pytorch-zip');
});

test('ONNX by a structural decode of its top-level fields, whatever the extension; truncation is not ONNX', async () => {
  const onnx = readFileSync(join(FIXTURES, 'onnx_int8_axis.onnx'));
  assert.equal(sniffFormat(onnx), 'onnx');
  assert.equal(sniffFormat(onnx.subarray(0, onnx.length - 3)), 'unknown');
  assert.equal(sniffFormat(Buffer.from('\x08\x07hello world')), 'unknown');
  const f = join(dir, 'model.bin');
  writeFileSync(f, onnx);
  assert.equal((await readCheckpoint(f)).format, 'onnx');
});
