// ONNX external data stays inside the model's folder: sibling folders with a common prefix,
// symlinks out, absolute paths and impossible offsets/lengths are refused before anything is read.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { QatLensError } from '../../src/core/errors';
import { readCheckpoint } from '../../src/core/readers/index';
import { W_BYTES, W_VALUES, encode, int8ConvModel, type ExternalSpec } from '../helpers/onnxHostile';

const root = mkdtempSync(join(tmpdir(), 'qat-ext-'));
after(() => rmSync(root, { recursive: true, force: true }));
const models = join(root, 'models');
const priv = join(root, 'models-private');
mkdirSync(models);
mkdirSync(priv);
mkdirSync(join(models, 'sub'));
// The secret differs from the real weights, so a leak would change the statistics.
const SECRET = Uint8Array.from(W_BYTES, (b) => (b + 3) & 0xff);
writeFileSync(join(priv, 'w.bin'), SECRET);
writeFileSync(join(models, 'w.bin'), W_BYTES);
writeFileSync(join(models, 'sub', 'w.bin'), W_BYTES);
symlinkSync(join(priv, 'w.bin'), join(models, 'link-out.bin'));
symlinkSync(join(models, 'sub', 'w.bin'), join(models, 'link-in.bin'));
symlinkSync(priv, join(models, 'dir-out'));

let n = 0;
function modelWith(ext: ExternalSpec): string {
  const f = join(models, `m${n++}.onnx`);
  writeFileSync(f, encode(int8ConvModel(ext)));
  return f;
}

async function refused(ext: ExternalSpec, pattern: RegExp): Promise<void> {
  const f = modelWith(ext);
  await assert.rejects(readCheckpoint(f), (err: unknown) => {
    assert.ok(err instanceof QatLensError, String(err));
    assert.ok(err.message.startsWith(`${f}: `), err.message);
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.match(err.message, pattern);
    return true;
  });
}

test('external data inside the folder is read (direct, in a sub-folder, through a symlink that stays inside)', async () => {
  for (const location of ['w.bin', 'sub/w.bin', './sub/../w.bin', 'link-in.bin']) {
    const ck = await readCheckpoint(modelWith({ location }));
    assert.deepEqual(Array.from(ck.variants[0].layers[0].weight.integer!), W_VALUES, location);
  }
  const withOffset = join(models, 'padded.bin');
  writeFileSync(withOffset, Buffer.concat([Buffer.alloc(7, 0x55), W_BYTES]));
  const ck = await readCheckpoint(modelWith({ location: 'padded.bin', offset: '7', length: String(W_BYTES.length) }));
  assert.deepEqual(Array.from(ck.variants[0].layers[0].weight.integer!), W_VALUES);
});

test('a sibling folder sharing the prefix (../models-private/) is outside', () => refused({ location: '../models-private/w.bin' }, /points outside the model's folder/));
test('a symlink to a file outside is refused', () => refused({ location: 'link-out.bin' }, /points outside the model's folder/));
test('a path through a symlinked folder outside is refused', () => refused({ location: 'dir-out/w.bin' }, /points outside the model's folder/));
test('an absolute location is refused, even one inside the folder', () => refused({ location: join(models, 'w.bin') }, /absolute location/));
test('a Windows drive path is refused', () => refused({ location: 'C:\\Windows\\win.ini' }, /absolute location/));
test('the folder itself and a folder inside are not regular files', async () => {
  await refused({ location: '.' }, /points outside/);
  await refused({ location: 'sub' }, /not a regular file/);
});
test('length -1, NaN, 8 GB and a float are refused before any allocation', async () => {
  await refused({ location: 'w.bin', length: '-1' }, /length "-1" is not a non-negative integer/);
  await refused({ location: 'w.bin', length: 'NaN' }, /length "NaN" is not a non-negative integer/);
  await refused({ location: 'w.bin', length: '1.5' }, /length "1.5" is not/);
  await refused({ location: 'w.bin', length: String(8 * 2 ** 30) }, /8589934592 bytes at offset 0 do not fit w\.bin \(18 bytes\)/);
  await refused({ location: 'w.bin', offset: '99' }, /offset 99 lies past the end/);
  await refused({ location: 'w.bin', offset: '-4' }, /offset "-4" is not/);
  await refused({ location: 'w.bin', offset: '10', length: '18' }, /do not fit/);
});
test('a missing file is a one-line error naming the location', () => refused({ location: 'nope.bin' }, /nope\.bin\): ENOENT/));
