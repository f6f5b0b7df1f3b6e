// The generated gradient against the tfjs executor, live, while tfjs is QC's reference (retired with
// it; engine.test.ts keeps the recorded references).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import test from 'node:test';
import { discoverCase, tfjsVjp } from '../helpers/tfjsVjp';
import { engineRun, maxRelDiff } from '../helpers/trainCase';

test('tiny QDQ detector: heads and dγ/dβ equal the tfjs executor\'s vjp of sum(heads · dHeads)', async (t) => {
  const c = await discoverCase(join(__dirname, '..', 'fixtures', 'qc', 'tiny_qdq.onnx'), [64, 64], 2, 11);
  const r = await engineRun(c);
  const ref = await tfjsVjp(c);
  const heads = maxRelDiff(r.heads, ref.heads), dg = maxRelDiff(r.grads.dGamma, ref.dGamma), db = maxRelDiff(r.grads.dBeta, ref.dBeta);
  t.diagnostic(`heads ${heads.worst.toExponential(2)}, dγ ${dg.worst.toExponential(2)}, dβ ${db.worst.toExponential(2)} of each layer's largest`);
  assert.ok(heads.worst <= 1e-6, `heads: ${heads.worst}`);
  assert.ok(dg.worst <= 2e-5 && db.worst <= 2e-5, `dγ ${dg.worst} (layer ${dg.at}), dβ ${db.worst} (layer ${db.at})`);
});
