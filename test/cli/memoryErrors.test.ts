// Memory exhaustion ends in one line naming the setting to lower (src/core/errors.ts), with the
// real failures V8 raises: an impossible typed array, a string past V8's limit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryError, QatLensError, checkAllocation, guardMemory, isAllocationFailure } from '../../src/core/errors';
import { addressSpaceLeftOf, availableBytes, headroomBytes } from '../../src/core/qc/memory';

test('real allocation failures are recognised; ordinary errors are not', () => {
  assert.throws(
    () => new Float64Array(2 ** 40),
    (e: unknown) => isAllocationFailure(e),
  );
  assert.throws(
    () => 'x'.repeat(2 ** 30),
    (e: unknown) => isAllocationFailure(e),
  );
  assert.equal(isAllocationFailure(new TypeError('x is not a function')), false);
  assert.equal(isAllocationFailure(new QatLensError('Invalid array length in the file')), false);
});

test('guardMemory turns them into one line naming the setting', async () => {
  await assert.rejects(
    guardMemory(() => new Float64Array(2 ** 40), 'running map', '--batch N (images per inference call) or --limit N', 'model.onnx'),
    (e: unknown) => {
      assert.ok(e instanceof MemoryError);
      assert.equal(e.message, 'model.onnx: out of memory while running map: lower --batch N (images per inference call) or --limit N and try again');
      return true;
    },
  );
  assert.equal(await guardMemory(async () => 7, 'x', 'y'), 7);
});

test('checkAllocation refuses before allocating, naming what and why', () => {
  assert.throws(
    () => checkAllocation(2 ** 50, 'the precision table', 'fewer categories', 'gt.json'),
    /^Error: gt\.json: the precision table would need 1048576\.0 GB, more than this machine allows \([\d.]+ GB\): fewer categories$|gt\.json: the precision table would need 1048576\.0 GB/,
  );
  checkAllocation(1024, 'a small table', 'nothing');
});

/**
 * `qat-lens correct` on the example under `ulimit -v kb`, one step of `batch` images at once: it must
 * end in the one-line out-of-memory error with nothing written. Returns what it printed.
 */
function qcOutOfMemory(kb: number, batch: number): string {
  const root = join(__dirname, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'qc-oom-'));
  try {
    const out = join(dir, 'qc.onnx');
    const cmd = `ulimit -v ${kb} && exec "${process.execPath}" bin/qat-lens.js correct examples/shapes/w4a4/qdq.onnx --data examples/shapes/data.yaml --out "${out}" --steps 1 --batch ${batch} --micro-batch ${batch} --engine cpu`;
    const r = spawnSync('bash', ['-c', cmd], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    const last = r.stderr.trim().split('\n').pop()!;
    assert.equal(
      last.replace(/\(peak \d+ MB, \d+ MB free now\)/, '(peak N MB, M MB free now)'),
      `qat-lens correct: out of memory in a QC step of ${batch} images at micro-batch ${batch} (peak N MB, M MB free now): lower the micro-batch (--micro-batch) or the batch (--batch)`,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
    return r.stdout + r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('QC out of memory (a real onnxruntime allocation failure under a 2.5 GB address-space limit) is one line naming --micro-batch and --batch; nothing is written', () => {
  qcOutOfMemory(2500000, 32);
});

test('under an address-space limit QC does not shard: there a shard thread that fails to map aborts the process', (t) => {
  if (availableParallelism() < 2) return t.skip('one core: the CPU engine runs unsharded anyway');
  const root = join(__dirname, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'qc-limit-'));
  try {
    // Sharded under a 7 GB limit, a step of 256 images aborted ("terminate called after throwing an
    // instance of 'std::system_error'", "'Napi::Error'", exit 134) instead of the one-line error.
    const cmd = `ulimit -v 16000000 && exec "${process.execPath}" bin/qat-lens.js correct examples/shapes/w4a4/qdq.onnx --data examples/shapes/data.yaml --out "${join(dir, 'qc.onnx')}" --steps 1 --batch 4 --limit 8 --bootstrap 0 --engine cpu`;
    const r = spawnSync('bash', ['-c', cmd], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /QC trains on onnxruntime cpu \(\d+ threads\)/);
    assert.deepEqual(readdirSync(dir), ['qc.onnx']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('headroom: the room under an address-space limit is read from /proc/PID/limits (a real one, from a process under ulimit -v)', () => {
  const r = spawnSync('bash', ['-c', 'ulimit -v 3000000 && exec cat /proc/self/limits'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(addressSpaceLeftOf(r.stdout, 1e9), 3000000 * 1024 - 1e9);
  assert.equal(addressSpaceLeftOf(r.stdout, 4e9), 0);
  const free = spawnSync('bash', ['-c', 'ulimit -v unlimited && exec cat /proc/self/limits'], { encoding: 'utf8' });
  assert.equal(addressSpaceLeftOf(free.stdout, 1e9), Infinity);
  assert.ok(headroomBytes() <= availableBytes());
});
