// Every input the fuzzer ever failed on (saved under test/fixtures/fuzz/<target>-s<seed>-<i>/ by
// `npm run fuzz`) is replayed here, in this process, against the same properties.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCase } from './check';
import { FAILURES } from './harness';
import type { CaseSpec } from './targets';

const cases = existsSync(FAILURES)
  ? readdirSync(FAILURES)
      .filter((d) => existsSync(join(FAILURES, d, 'case.json')))
      .sort()
  : [];
const tmp = mkdtempSync(join(tmpdir(), 'qat-fuzz-reg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('saved fuzz failures exist (each bug found keeps its input)', () => {
  assert.ok(cases.length > 0, `no saved cases under ${FAILURES}`);
});

for (const name of cases) {
  test(`fuzz regression ${name}`, async () => {
    const dir = join(tmp, name);
    cpSync(join(FAILURES, name), dir, { recursive: true, verbatimSymlinks: true });
    // The empty output folder of a case does not survive git: make it again.
    mkdirSync(join(dir, 'out'), { recursive: true });
    const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseSpec;
    const outcome = await runCase(dir, spec);
    assert.deepEqual(outcome.violations, [], `${name} (${spec.how}): ${outcome.message ?? 'accepted'}`);
  });
}
