// Memory exhaustion ends in one line naming the setting to lower (src/core/errors.ts), with the
// real failures V8 raises: an impossible typed array, a string past V8's limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryError, QatLensError, checkAllocation, guardMemory, isAllocationFailure } from '../../src/core/errors';

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
