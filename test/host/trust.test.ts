// Workspace trust: analysis works in Restricted Mode; reading a data set's paths and running QC ask
// first; package.json declares limited support with the data set settings restricted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureTrusted, needsTrust, type TrustApi } from '../../src/host/trustPolicy';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('package.json: untrustedWorkspaces limited, data set settings restricted, settings exist', () => {
  const u = pkg.capabilities.untrustedWorkspaces;
  assert.equal(u.supported, 'limited');
  assert.match(u.description, /Restricted Mode/);
  assert.deepEqual(u.restrictedConfigurations, ['qatLens.dataset', 'qatLens.calibrationSet']);
  for (const k of u.restrictedConfigurations) assert.ok(pkg.contributes.configuration.properties[k], k);
});

/** A recording TrustApi: the decisions are the policy's, the answers are the user's. */
function api(trusted: boolean, answer: boolean) {
  const asked: string[] = [];
  let opened = 0;
  const a: TrustApi = {
    isTrusted: () => trusted,
    ask: async (m) => {
      asked.push(m);
      return answer;
    },
    openTrustEditor: async () => {
      opened++;
    },
  };
  return { a, asked, opened: () => opened };
}

test('analysis needs no trust; data sets and QC do', async () => {
  assert.equal(needsTrust('analyze'), false);
  assert.equal(needsTrust('read-dataset'), true);
  assert.equal(needsTrust('run-qc'), true);
  const untrusted = api(false, false);
  assert.equal(await ensureTrusted('analyze', 'Analyze', untrusted.a), true);
  assert.equal(untrusted.asked.length, 0);
});

test('untrusted: QC asks, names what it would do, offers the trust editor, does not run', async () => {
  const u = api(false, true);
  assert.equal(await ensureTrusted('run-qc', 'QC Correction', u.a), false);
  assert.equal(u.asked.length, 1);
  assert.match(u.asked[0], /^QC Correction runs Quantization Correction: .* not trusted \(Restricted Mode\)/);
  assert.equal(u.opened(), 1);
  const declined = api(false, false);
  assert.equal(await ensureTrusted('read-dataset', 'Evaluating mAP', declined.a), false);
  assert.equal(declined.opened(), 0);
});

test('trusted: everything goes ahead without a question', async () => {
  const t = api(true, false);
  for (const a of ['analyze', 'read-dataset', 'run-qc'] as const) assert.equal(await ensureTrusted(a, 'x', t.a), true);
  assert.equal(t.asked.length, 0);
});
