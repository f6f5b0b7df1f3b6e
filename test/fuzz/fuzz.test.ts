// The time-bounded fuzz slice of `npm test`: fixed seed, at most 45 s (fewer cases on a busy
// machine, the same ones first), every reader, some cases through the built CLI. `npm run fuzz`
// runs more; see docs/security.md.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzz } from './harness';
import { TARGETS } from './targets';

test('fuzz slice: every reader, fixed seed 14, 45 s: no crash, hang, outside read or stray output', { timeout: 120_000 }, async () => {
  const stats = await fuzz({ seed: 14, seconds: 45, cliEvery: 25, save: false });
  assert.ok(stats.cases >= TARGETS.length * 4, `only ${stats.cases} cases ran`);
  for (const t of TARGETS) assert.ok(stats.perTarget[t]?.cases > 0, `${t} not exercised`);
  assert.ok(stats.cliRuns > 0, 'no case went through the built CLI');
  assert.deepEqual(
    stats.failures.map((f) => `${f.target} #${f.index} (${f.how}): ${f.violations.join('; ')}`),
    [],
  );
});
