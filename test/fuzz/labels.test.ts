// YOLO label lines the fuzzer found too big for the loader: a polygon of 150k points (Math.min(...xs)
// overflowed the call stack) is read; a 300 KB line of junk is refused in one short line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCase } from './check';
import { Rng } from './mutate';
import { makeCase } from './targets';

const tmp = mkdtempSync(join(tmpdir(), 'qat-labels-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function caseWith(label: string): string {
  const dir = join(tmp, `c${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  makeCase('yolo-labels', new Rng(1), dir);
  writeFileSync(join(dir, 'data', 'labels', 'val', '000000.jpg'.replace('.jpg', '.txt')), label);
  writeFileSync(join(dir, 'data', 'labels', 'val', '000001.txt'), '');
  return dir;
}

test('a polygon label of 150k points is read (no spread into Math.min)', async () => {
  const pts: string[] = ['0'];
  for (let i = 0; i < 150_000; i++) pts.push(String(0.2 + (i % 100) / 1000), String(0.3 + (i % 50) / 1000));
  const o = await runCase(caseWith(pts.join(' ')), { target: 'yolo-labels', how: 'polygon' });
  assert.deepEqual(o.violations, []);
  assert.equal(o.ok, true, o.message);
});

test('a 300 KB line of junk: one short refusal', async () => {
  const o = await runCase(caseWith(`0 ${'x '.repeat(150_000)}`), { target: 'yolo-labels', how: 'junk' });
  assert.deepEqual(o.violations, []);
  assert.match(o.message!, /000000\.txt: line 1: not numbers: "0 x x x .{60,80}…"$/);
  assert.ok(o.message!.length < 400);
});
