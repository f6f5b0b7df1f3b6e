// The fuzz properties can fail: the checker sees a read outside the input folder (resolved through
// symlinks), a crash that is not a QatLensError, and a refusal that does not name the file.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCase } from './check';

const tmp = mkdtempSync(join(tmpdir(), 'qat-check-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a model file that is a symlink to the canary outside is reported as an outside read', async () => {
  const dir = join(tmp, 'a');
  mkdirSync(join(dir, 'model'), { recursive: true });
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'canary.bin'), 'QAT-LENS-CANARY');
  symlinkSync('../canary.bin', join(dir, 'model', 'model.onnx'));
  const o = await runCase(dir, { target: 'onnx', how: 'symlinked model' });
  assert.equal(o.ok, false);
  assert.ok(
    o.violations.some((v) => v.startsWith('read outside the input folder: ') && v.endsWith('canary.bin')),
    o.violations.join('; '),
  );
});

test('a clean refusal passes: it names the file and writes nothing', async () => {
  const dir = join(tmp, 'b');
  mkdirSync(join(dir, 'model'), { recursive: true });
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'model', 'model.pt'), 'not a checkpoint at all');
  const o = await runCase(dir, { target: 'pt', how: 'text' });
  assert.equal(o.ok, false);
  assert.deepEqual(o.violations, []);
  assert.match(o.message!, /model\.pt: corrupt or truncated zip archive/);
});
