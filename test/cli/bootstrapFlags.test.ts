// --bootstrap / --seed: accepted by compare, correct, probe and example, refused with one line
// naming the flag when the value is not a whole number in range.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const bin = join(__dirname, '..', '..', 'bin', 'qat-lens.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('--bootstrap and --seed are listed by every command that shows differences', () => {
  for (const c of ['compare', 'correct', 'probe', 'example']) {
    const r = run(c, '--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--bootstrap N .*95% paired bootstrap interval/);
    assert.match(r.stdout, /--seed S/);
  }
});

test('bad values are usage errors naming the flag', () => {
  const r = run('compare', '--data', 'x', '--qat', 'y', '--bootstrap', '2.5');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--bootstrap must be a whole number from 0 to 1000000, got "2\.5"/);
  const s = run('example', '--seed=1.5');
  assert.equal(s.status, 2);
  assert.match(s.stderr, /--seed must be a whole number/);
  const d = run('example', '--data', 'huge');
  assert.equal(d.status, 2);
  assert.match(d.stderr, /--data must be bundled or large, got "huge"/);
});
