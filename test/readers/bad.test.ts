// Bad input: every error names the file and what is wrong; nothing from a pickle is ever executed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { QatLensError } from '../../src/core/errors';
import { readCheckpoint } from '../../src/core/readers/index';
import { PyObject, unpickle } from '../../src/core/readers/pickle';
import { FIXTURES } from '../helpers/readersExpect';

const MARKER = '/tmp/qat-lens-pickle-marker'; // what the hostile pickles would create (tools/fixtures/torch_fixtures.py)

async function rejectsWith(name: string, pattern: RegExp, opts = {}) {
  const file = join(FIXTURES, name);
  await assert.rejects(readCheckpoint(file, opts), (err: unknown) => {
    assert.ok(err instanceof QatLensError, `${name}: ${String(err)} is not a QatLensError`);
    assert.ok(err.message.startsWith(`${file}: `), `${name}: message does not name the file: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

const cases: [string, RegExp][] = [
  ['bad_truncated.pt', /zip archive: end of central directory not found \(file truncated\?\)/],
  ['bad_corrupt_zip.pt', /corrupt or truncated zip archive: central directory entry \d+ has a bad signature/],
  ['bad_random.pt', /zip archive|unrecognised/],
  ['bad_onnx_zero_scale.onnx', /zero scale 0 in tensor 'bad\.scale' at index 1/],
  ['bad_onnx_negative_scale.onnx', /negative scale -0\.0099\d* in tensor 'bad\.scale' at index 1/],
  ['bad_onnx_nan_scale.onnx', /NaN scale NaN in tensor 'bad\.scale' at index 1/],
  ['bad_onnx_float_only.onnx', /no quantized layer/],
  ['bad_no_quant.pt', /no quantized layer found \(state_dict: 2 weights/],
  ['bad_unknown_opcode.pt', /unknown pickle opcode 0xff \(pickle offset 5\)/],
  ['bad_truncated.safetensors', /data_offsets .* lie outside the data .*truncated/],
  ['bad_torchscript.pt', /TorchScript archive \(torch\.jit\.save\).*torch\.save\(model\.state_dict\(\)\)/],
  ['pickle_p2.pkl', /a pickle, but not a torch\.save file/],
  ['bad_eval.pt', /refusing this file: its pickle references __builtin__\.eval.*nothing was executed/],
];
for (const [name, pattern] of cases) test(`refuses ${name}`, () => rejectsWith(name, pattern, { bits: 4 }));

test('a pickle that would call os.system is refused and nothing runs', async () => {
  rmSync(MARKER, { force: true });
  await rejectsWith('bad_os_system.pt', /refusing this file: its pickle references posix\.system.*nothing was executed/);
  assert.equal(existsSync(MARKER), false, 'the payload ran');
});

test('random bytes, an empty file and a missing file: clear errors, no crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qat-bad-'));
  try {
    const rnd = join(dir, 'noise.onnx');
    writeFileSync(rnd, readFileSync(join(FIXTURES, 'bad_random.pt')));
    await assert.rejects(readCheckpoint(rnd), (e: Error) => e instanceof QatLensError && e.message.startsWith(rnd) && /not a valid ONNX model/.test(e.message));
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'hello');
    await assert.rejects(readCheckpoint(txt), /unrecognised file/);
    const empty = join(dir, 'empty.pt');
    writeFileSync(empty, '');
    await assert.rejects(readCheckpoint(empty), /file is empty/);
    await assert.rejects(readCheckpoint(join(dir, 'missing.pt')), (e: Error) => e instanceof QatLensError && /ENOENT/.test(e.message));
    // Every truncation of a real checkpoint fails cleanly (QatLensError), never with a raw exception.
    for (const name of ['yolov5_style_fp16.pt', 'lsq_module_legacy.pt', 'lsq_fp16.safetensors', 'onnx_torch_qclipdq.onnx']) {
      const good = readFileSync(join(FIXTURES, name));
      const cut = join(dir, `cut-${name}`);
      for (let n = 0; n < good.length; n += 331) {
        writeFileSync(cut, good.subarray(0, n));
        await assert.rejects(readCheckpoint(cut), (e: unknown) => e instanceof QatLensError, `${name} cut at ${n}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pickle VM: protocols 2-5 give plain data; unknown classes become inert PyObjects', () => {
  for (const p of [2, 3, 4, 5]) {
    const file = join(FIXTURES, `pickle_p${p}.pkl`);
    const o = unpickle(readFileSync(file), { file }) as Map<string, any>;
    assert.equal(o.get('int'), 5);
    assert.equal(o.get('neg'), -70000);
    assert.equal(o.get('big'), 2n ** 70n);
    assert.equal(o.get('float'), 1.5);
    assert.equal(o.get('str'), 'h\u00e9llo');
    assert.deepEqual(Array.from(o.get('bytes').bytes), [0, 1, 255], `protocol ${p} bytes`);
    assert.deepEqual(Array.from(o.get('ba').bytes), [120, 121, 122], `protocol ${p} bytearray`);
    assert.deepEqual(o.get('tuple'), [1, 2, 3]);
    assert.deepEqual(o.get('list'), [1, [2]]);
    assert.deepEqual([...o.get('set')].sort(), [1, 2]);
    assert.deepEqual([...o.get('fs')], [3]);
    assert.equal(o.get('none'), null);
    assert.equal(o.get('bool'), true);
    assert.deepEqual([...o.get('od')], [['a', 1]]);
    const ns = o.get('ns');
    assert.ok(ns instanceof PyObject);
    assert.equal(ns.className, 'argparse.Namespace');
    assert.equal(ns.dict?.get('a'), 1);
    const [a, b] = o.get('shared');
    assert.equal(a, b); // memo keeps identity
  }
});

test('pickle VM: REDUCE of a code-running callable anywhere in the file is refused', () => {
  const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  // [1, subprocess.check_output(('id',))] at protocol 2, hand-written.
  const pkl = enc('\x80\x02]q\x00(K\x01csubprocess\ncheck_output\nq\x01X\x02\x00\x00\x00idq\x02\x85q\x03\x85q\x04Rq\x05e.');
  assert.throws(() => unpickle(pkl, { file: 'x.pkl' }), /x\.pkl: refusing this file: its pickle references subprocess\.check_output/);
  // Any callable off the rebuild allow-list is refused by name (it would run in Python)...
  const unknown = enc('\x80\x02cmylib\nmake\nK\x07\x85R.');
  assert.throws(() => unpickle(unknown, { file: 'y.pkl' }), /y\.pkl: refusing this file: its pickle calls mylib\.make\(\.\.\.\), which would run code in Python/);
  // ...or, when asked, read as inert data and reported.
  const seen: string[] = [];
  const v = unpickle(unknown, { file: 'y.pkl', unlistedCalls: 'report', onUnlistedCall: (w) => seen.push(w) }) as PyObject;
  assert.equal(v.className, 'mylib.make(...)');
  assert.deepEqual(seen, ['mylib.make(...)']);
  assert.throws(() => unpickle(enc('\x80\x02K\x01'), { file: 'z.pkl' }), /z\.pkl: truncated pickle: no STOP opcode/);
});
