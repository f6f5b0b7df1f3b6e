// Files of a few KB that used to hang a reader or exhaust memory (issue 14): each now ends within
// a second in one line that names the file. Built in memory by test/helpers/hostileFiles.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeCheckpoints } from '../../src/core/analysis/analyzeCheckpoints';
import { QatLensError } from '../../src/core/errors';
import { readCheckpoint } from '../../src/core/readers/index';
import * as H from '../helpers/hostileFiles';

const dir = mkdtempSync(join(tmpdir(), 'qat-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function endsQuickly(name: string, bytes: Uint8Array, pattern: RegExp, analyze = false): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const t0 = Date.now();
  await assert.rejects(
    async () => {
      const ck = await readCheckpoint(file, { bits: 4 });
      if (analyze) analyzeCheckpoints([ck], {});
    },
    (err: unknown) => {
      assert.ok(err instanceof QatLensError, String((err as Error)?.stack ?? err));
      assert.ok(err.message.startsWith(`${file}: `), err.message);
      assert.ok(!err.message.includes('\n'));
      assert.match(err.message, pattern);
      return true;
    },
  );
  assert.ok(Date.now() - t0 < 5000, `${name} took ${Date.now() - t0} ms`);
}

test('a memoized tuple reused as a dict key through 60 nested layers is hashed once per tuple', () =>
  endsQuickly('memo.pt', H.memoTupleKey(60), /no model found in the checkpoint \(it holds a dict with keys layers\)/));

test('LONG4 with a 1 MB integer is refused without a quadratic decode', () => endsQuickly('long4.pt', H.long4Huge(), /integer of 1048576 bytes: larger than any checkpoint holds/));

test('LONG4 claiming 2 GB is checked against the bytes left', () => endsQuickly('long4b.pt', H.long4Claims2GB(), /truncated pickle: 2147483647 bytes needed, 4 left/));

test('a list of 400k ints appended at once and 200 nested lists: no stack overflow', () => endsQuickly('wide.pt', H.wideTree(), /no model found in the checkpoint \(it holds tuple\/list\)/));

test('a [20000, 20000] tensor with zero strides over a 4-byte storage is refused before materializing', () =>
  endsQuickly('stride0.pt', H.zeroStrideTensor(), /tensor 'conv\.weight' declares 400000000 float32 elements \[20000, 20000\] over a storage of 4 bytes/));

test('a safetensors weight declared [100000000, 0] holds no weights: no per-channel arrays sized from it', () =>
  endsQuickly('empty.safetensors', H.safetensorsEmptyHuge(), /layer "conv": shape \[100000000, 0\] holds no weights/, true));

test('a deflated zip entry that declares 3 GB is refused before its buffer is allocated', async () => {
  const { zipSync } = await import('fflate');
  const zip = Buffer.from(zipSync({ 'archive/data.pkl': [new Uint8Array(2000), { level: 9 }] }));
  // Patch the declared (uncompressed) size in the central directory entry: 0xC0000000 = 3 GB.
  const cd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt32LE(0xc0000000, cd + 24);
  await endsQuickly('bomb.pt', zip, /entry 'archive\/data\.pkl' declares 3221225472 bytes, more than \d+ compressed bytes can hold/);
});
