// `qat-lens precision` flags: what each becomes in the job request, and the usage errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/command';
import { commands } from '../../src/cli/commands';
import type { PrecisionParams } from '../../src/core/jobs/precision';

const cmd = commands.find((c) => c.name === 'precision')!;
const req = (v: Record<string, string | boolean>) => cmd.request(v, ['m.onnx']).params as PrecisionParams;

test("flags become the job's parameters", () => {
  const p = req({ data: 'd.yaml', latent: 'e.pt', bits: '6', activations: true, candidates: 'all', 'target-map': '65', out: 'p.onnx', json: 'r.json', html: 'r.html' });
  assert.deepEqual([p.model, p.data, p.latent, p.bits, p.activations, p.targetMap, p.out, p.jsonOut, p.htmlOut], ['m.onnx', 'd.yaml', 'e.pt', 6, true, 0.65, 'p.onnx', 'r.json', 'r.html']);
  assert.ok(p.candidates! >= 1e9, '--candidates all');
  assert.equal(req({ data: 'd', 'target-map': '0.6' }).targetMap, 0.6);
  assert.deepEqual(req({ data: 'd', layers: 'model.5.conv, model.9.cv1.conv' }).layers, ['model.5.conv', 'model.9.cv1.conv']);
  assert.equal(req({ data: 'd', budget: '4096' }).budget, 4096);
  assert.deepEqual(cmd.inputs({ data: 'd', latent: 'e.pt', float: 'f.onnx' }, ['m.onnx']), ['m.onnx', 'd', 'e.pt', 'f.onnx']);
});

test('usage errors name the flag', () => {
  const bad = (v: Record<string, string | boolean>, re: RegExp) =>
    assert.throws(
      () => req(v),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
    );
  bad({}, /--data is required/);
  bad({ data: 'd', 'target-map': '0.6', budget: '10' }, /one of --target-map, --target-gap, --budget and --layers/);
  bad({ data: 'd', 'target-gap': '0.5' }, /--target-gap needs --float/);
  bad({ data: 'd', bits: '9' }, /--bits must be a whole number in \[2, 8\]/);
  bad({ data: 'd', candidates: 'some' }, /--candidates must be a positive whole number or "all"/);
  bad({ data: 'd', layers: ' , ' }, /--layers must name at least one layer/);
});
