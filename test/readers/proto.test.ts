// ONNX protobuf helpers: every data type and storage field against numpy's values, and the
// write path (makeTensor encodings, atomic saveModel, loadModel errors).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataType, loadModel, makeTensor, onnx, saveModel, tensorShape, tensorToArray, tensorToFloat64 } from '../../src/core/onnx/proto';
import { FIXTURES, expected } from '../helpers/readersExpect';

const e = expected._dtypes;
// Non-finite values are stored as "inf" / "-inf" strings (JSON has no Infinity).
e.float16 = e.float16.map((v: number | string) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v));
const model = loadModel(join(FIXTURES, 'onnx_dtypes.onnx.pb'));
const init = (name: string) => model.graph!.initializer!.find((t) => t.name === name)!;
const num = (a: ArrayLike<number | bigint>) => Array.from(a as ArrayLike<number>, (v) => Number(v));

test('tensorToArray: raw_data and typed fields of every type equal numpy', () => {
  assert.deepEqual(num(tensorToArray(init('f32_raw'))), e.float32);
  assert.deepEqual(num(tensorToArray(init('f32_field'))), e.float32);
  assert.deepEqual(num(tensorToArray(init('f16_raw'))), e.float16);
  assert.deepEqual(num(tensorToArray(init('f16_field'))), e.float16);
  assert.deepEqual(num(tensorToArray(init('bf16_raw'))), e.bfloat16);
  assert.deepEqual(num(tensorToArray(init('f64_raw'))), e.float32);
  assert.deepEqual(num(tensorToArray(init('f64_field'))), e.float32);
  assert.deepEqual(num(tensorToArray(init('i8_raw'))), e.int8);
  assert.deepEqual(num(tensorToArray(init('i8_field'))), e.int8);
  assert.deepEqual(num(tensorToArray(init('u8_raw'))), e.uint8);
  assert.deepEqual(num(tensorToArray(init('i32_raw'))), e.int32);
  const i64 = tensorToArray(init('i64_raw'));
  assert.ok(i64 instanceof BigInt64Array);
  assert.deepEqual(num(i64), e.int64);
  assert.deepEqual(num(tensorToFloat64(init('i64_field'))), e.int64);
  assert.deepEqual(tensorShape(init('f32_raw')), [e.float32.length]);
});

test('makeTensor rounds float16 and bfloat16 as numpy does, and round-trips every type', () => {
  const h = makeTensor('h', [e.float32.length], e.float32, DataType.FLOAT16);
  assert.deepEqual(Array.from(new Uint16Array(Uint8Array.from(h.rawData).buffer)), e.float16_bits);
  const b = makeTensor('b', [e.float32.length], e.float32, DataType.BFLOAT16);
  assert.deepEqual(Array.from(new Uint16Array(Uint8Array.from(b.rawData).buffer)), e.bfloat16_bits);
  const cases: [number, number[]][] = [
    [DataType.FLOAT, [1.5, -2, 0.25]],
    [DataType.DOUBLE, [0.1, -1e300]],
    [DataType.INT8, [-128, 127]],
    [DataType.UINT8, [0, 255]],
    [DataType.INT32, [-70000, 3]],
    [DataType.INT64, [-(2 ** 40), 9]],
    [DataType.INT4, [-8, 7, 0, -1, 3]],
    [DataType.UINT4, [15, 0, 9]],
  ];
  for (const [dt, vals] of cases) {
    const t = makeTensor('t', [vals.length], vals, dt);
    const back = onnx.TensorProto.decode(onnx.TensorProto.encode(t).finish());
    assert.deepEqual(num(tensorToArray(back)), vals, `data type ${dt}`);
  }
  // int4 packing: two per byte, low nibble first.
  assert.deepEqual(Array.from(makeTensor('p', [3], [1, -1, 2], DataType.INT4).rawData), [0xf1, 0x02]);
  assert.throws(() => makeTensor('p', [1], [8], DataType.INT4), /not a int4 value/);
  assert.throws(() => makeTensor('p', [2], [1], DataType.FLOAT), /1 values for shape \[2\]/);
});

test('saveModel writes atomically and loadModel reads it back; errors name the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qat-proto-'));
  try {
    const out = join(dir, 'copy.onnx');
    await saveModel(model, out);
    assert.deepEqual(readdirSync(dir), ['copy.onnx']); // no temp file left behind
    const back = loadModel(out);
    assert.deepEqual(num(tensorToArray(back.graph!.initializer!.find((t) => t.name === 'f16_raw')!)), e.float16);
    await assert.rejects(saveModel(model, out, { inputs: [out] }), /refusing to write over an input file/);
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, Buffer.from([0x08, 0x07, 0xff, 0xff, 0xff]));
    assert.throws(
      () => loadModel(bad),
      (err: Error) => err.message.startsWith(`${bad}: not a valid ONNX model`),
    );
    assert.throws(() => loadModel(join(dir, 'missing.onnx')), /missing\.onnx: cannot read file \(ENOENT\)/);
    assert.equal(existsSync(join(dir, 'missing.onnx')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
