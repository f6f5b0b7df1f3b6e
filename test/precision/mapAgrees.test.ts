// The plan's what-if model, written by `qat-lens precision --out`, scored by `qat-lens map`, gives
// the mAP the precision report says (bundled W4A4 example, integer ONNX + .pt, weights and
// activations at 8 bits, first 16 validation images); the input files are left untouched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PrecisionReport } from '../../src/core/precision/types';
import { findWeightChains } from '../../src/core/probe/probeGraph';
import { loadModel } from '../../src/core/onnx/proto';

const ROOT = join(__dirname, '..', '..');
const EX = join(ROOT, 'examples', 'shapes');
const dir = mkdtempSync(join(tmpdir(), 'qat-lens-precision-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'qat-lens.js'), ...args], { encoding: 'utf8', timeout: 600_000 });

test("qat-lens map scores the plan's what-if model to the mAP in the precision report", { timeout: 900_000 }, () => {
  const onnxFile = join(EX, 'w4a4', 'qdq.onnx'),
    pt = join(EX, 'w4a4', 'epoch_28.pt');
  const before = [sha(onnxFile), sha(pt)];
  const plan = join(dir, 'plan.onnx'),
    json = join(dir, 'precision.json'),
    mapJson = join(dir, 'map.json');
  const p = cli(
    'precision',
    onnxFile,
    '--latent',
    pt,
    '--data',
    join(EX, 'data.yaml'),
    '--activations',
    '--layers',
    'model.5.conv,model.20.cv2.conv',
    '--limit',
    '16',
    '--engine',
    'cpu',
    '--out',
    plan,
    '--json',
    json,
  );
  assert.equal(p.status, 0, p.stderr);
  const r = JSON.parse(readFileSync(json, 'utf8')) as PrecisionReport;
  assert.deepEqual(r.plan.layers, ['model.5.conv', 'model.20.cv2.conv']);
  assert.equal(r.plan.out, plan);
  assert.equal(r.baseline.images, 16);
  assert.notEqual(r.plan.map, r.baseline.map, 'the plan changes the model');
  // The written model carries the two layers at 8 bits, per channel.
  const chains = findWeightChains(loadModel(plan), plan);
  assert.deepEqual(
    chains.filter((c) => c.quant.scale.length > 1).map((c) => c.node),
    ['model.5.conv', 'model.20.cv2.conv'],
  );
  const m = cli('map', plan, '--data', join(EX, 'data.yaml'), '--limit', '16', '--engine', 'cpu', '--json', mapJson);
  assert.equal(m.status, 0, m.stderr);
  const stats = (JSON.parse(readFileSync(mapJson, 'utf8')) as { stats: number[] }).stats;
  assert.equal(stats[0], r.plan.map, 'mAP@.5:.95');
  assert.equal(stats[1], r.plan.map50, 'mAP@.5');
  assert.deepEqual([sha(onnxFile), sha(pt)], before, 'inputs untouched');
});
