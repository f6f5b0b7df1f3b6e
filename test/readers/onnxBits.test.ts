// An int8-container 4-bit export (DequantizeLinear only, no Clip): --bits 4 wins where the file
// records no range, and the report says the width was given; without --bits the report says the
// integers fit 4 bits and suggests --bits 4, never guessing. Fixture: tools/fixtures/make_int4_in_int8.py.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCheckpoints } from '../../src/core/analysis/analyzeCheckpoints';
import { readCheckpoint } from '../../src/core/readers/index';
import { FIXTURES } from '../helpers/readersExpect';

const FILE = join(FIXTURES, 'onnx_int4_in_int8.onnx');

test('analyze --bits 4: the 4-bit layer reads as 4 bits (-8..7, given by the user); the 8-bit first layer keeps its container', async () => {
  const ck = await readCheckpoint(FILE, { bits: 4 });
  const report = analyzeCheckpoints([ck], { bits: 4 });
  const byName = new Map(report.layers.map((l) => [l.name, l]));
  const c2 = byName.get('conv2.w')!;
  assert.deepEqual([c2.bits, c2.qmin, c2.qmax, c2.bitsSource], [4, -8, 7, 'user']);
  const c1 = byName.get('conv1.w')!;
  assert.deepEqual([c1.bits, c1.qmin, c1.qmax, c1.bitsSource], [8, -128, 127, 'container']);
  assert.ok(
    report.summary.notes.some((n) => /^--bits 4 given: 1 integer weight layer\(s\) whose file records only the int8 container read as 4-bit \(conv2\.w\)/.test(n)),
    report.summary.notes.join('\n'),
  );
  assert.ok(report.summary.notes.some((n) => /--bits 4 not applied to conv1\.w \(-110\.\.110\)/.test(n)));
  assert.deepEqual(report.summary.bits, [4, 8]);
  assert.equal(report.settings.bits, 4);
});

test('without --bits: 8 bits from the container, and a note that conv2.w fits 4 bits with the --bits 4 advice', async () => {
  const ck = await readCheckpoint(FILE);
  const report = analyzeCheckpoints([ck], {});
  const c2 = report.layers.find((l) => l.name === 'conv2.w')!;
  assert.deepEqual([c2.bits, c2.bitsSource], [8, 'container']);
  assert.ok(
    report.summary.notes.some((n) => n === "every integer of conv2.w fits 4 bits (-8..7) but the file records only the container's range; if these are 4-bit weights, pass --bits 4"),
    report.summary.notes.join('\n'),
  );
  assert.ok(!report.summary.notes.some((n) => /conv1\.w fits/.test(n)));
});
