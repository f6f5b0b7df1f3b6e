// The bundled example end to end with tiny settings: compare JSON shape, and the example job
// (analysis, probe, QC, side by side) producing report.json, report.html and the corrected ONNX.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CompareReport } from '../../src/core/compare/types';
import { quietContext } from '../../src/core/context';
import { runCompare } from '../../src/core/jobs/compare';
import { EXAMPLE_QC_LR, exampleWorkflow } from '../../src/cli/commands/example';
import { runWorkflow } from '../../src/core/jobs/workflow';
import { loadModel } from '../../src/core/onnx/proto';
import { findWeightChains } from '../../src/core/probe/probeGraph';

const ex = join(__dirname, '..', '..', 'examples', 'shapes');
const run = join(ex, 'w4a4');
const out = mkdtempSync(join(tmpdir(), 'qat-lens-example-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('compare on the example: float, QAT, soft δ, latent entries; the latent ONNX matches the QAT integers', async () => {
  const json = join(out, 'compare.json');
  await runCompare(
    {
      data: join(ex, 'data.yaml'),
      qat: join(run, 'qdq.onnx'),
      float: join(ex, 'float.onnx'),
      latent: join(run, 'qdq_latent.onnx'),
      deltas: [0.1],
      limit: 8,
      jsonOut: json,
    },
    quietContext(),
  );
  const r = JSON.parse(readFileSync(json, 'utf8')) as CompareReport;
  assert.deepEqual(
    r.comparison.entries.map((e) => e.role),
    ['float', 'qat', 'hard', 'soft', 'latent'],
  );
  assert.equal(r.images, 8);
  const [f, q, h, s, l] = r.comparison.entries;
  for (const e of [f, q, h, s, l]) {
    assert.ok(e.map > 0 && e.map <= 1 && e.map50 >= e.map, `${e.label}: ${e.map} / ${e.map50}`);
    assert.equal(e.pr!.recall.length, e.pr!.precision.length);
    assert.ok(Object.keys(e.perCategory!).length > 0);
  }
  assert.equal(s.delta, 0.1);
  assert.ok(s.softWeights! > 0 && s.softWeights! < s.probedWeights!);
  assert.equal(l.softWeights, l.probedWeights);
  assert.equal(h.softWeights, 0);
  assert.ok(r.comparison.notes!.some((n) => /rounded weights equal the QAT model's integers/.test(n)));
});

test('example job with tiny settings writes report.json, report.html and a corrected ONNX', async () => {
  const r = await runWorkflow(exampleWorkflow({ out }, { steps: 2, batch: 2, limit: 4, deltas: [0.1] }), quietContext());
  for (const f of [r.files.json, r.files.html, r.files.corrected]) assert.ok(existsSync(f), f);
  const j = JSON.parse(readFileSync(r.files.json, 'utf8'));
  assert.equal(j.settings.steps, 2);
  assert.ok(j.analysis.layers.length > 0);
  assert.equal(j.qc.steps, 2);
  assert.deepEqual(
    j.comparison.comparison.entries.map((e: { role: string }) => e.role),
    ['float', 'qat', 'hard', 'soft', 'latent', 'qc'],
  );
  const page = readFileSync(r.files.html, 'utf8');
  const data = JSON.parse(/<script id="qat-lens-data" type="application\/json">([\s\S]*?)<\/script>/.exec(page)![1]);
  assert.equal(data.analysis.report.layers.length, j.analysis.layers.length);
  assert.deepEqual(
    data.comparison.entries.map((e: { label: string }) => e.label),
    j.comparison.comparison.entries.map((e: { label: string }) => e.label),
  );
  assert.equal(data.probeLayers.layers.length, j.probe.perLayer.layers.length);
  assert.match(page, /id="probe"/);
  // The corrected model keeps the QAT model's integer weights.
  const a = findWeightChains(loadModel(join(run, 'qdq.onnx')), 'qdq.onnx');
  const b = findWeightChains(loadModel(r.files.corrected), r.files.corrected);
  assert.equal(a.length, b.length);
  assert.deepEqual(Array.from(b[0].integers!), Array.from(a[0].integers!));
});

test('example job on generated data (tiny counts): QC runs an epoch over the calib split, chooses the step on the holdout split, and the report charts both curves', async () => {
  const dir = join(out, 'large');
  const r = await runWorkflow(
    exampleWorkflow({ out: dir }, { batch: 4, limit: 4, deltas: [0.1], perLayer: false, largeShapes: { dir: join(out, 'shapes'), counts: { val: 6, calib: 8, holdout: 4 } } }),
    quietContext(),
  );
  const j = JSON.parse(readFileSync(r.files.json, 'utf8'));
  assert.equal(j.qc.calib.images, 8, 'every calib image');
  assert.equal(j.qc.steps, 2, 'one epoch: 8 images / batch 4');
  assert.equal(j.qc.schedule, 'cosine');
  assert.equal(j.qc.heldOut.split, 'holdout');
  assert.equal(j.qc.heldOut.images, 4);
  assert.deepEqual(
    j.qc.heldOut.curve.map((p: { step: number }) => p.step),
    [0, 1, 2],
  );
  assert.equal(r.settings.keptStep, j.qc.heldOut.keptStep);
  const page = readFileSync(r.files.html, 'utf8');
  const data = JSON.parse(/<script id="qat-lens-data" type="application\/json">([\s\S]*?)<\/script>/.exec(page)![1]);
  assert.deepEqual(data.comparison.qc.loss, j.qc.lossCurve);
  assert.equal(data.comparison.qc.keptStep, j.qc.heldOut.keptStep);
  assert.ok(data.comparison.notes.some((n: string) => n.startsWith(`QC kept step ${j.qc.heldOut.keptStep} of 2`)));
});

test("example QC learning rate: the table's row per model on the large set, as given otherwise", () => {
  assert.equal(exampleWorkflow({ out, bits: 4 }, { largeShapes: {} }).lr, EXAMPLE_QC_LR[4]);
  assert.equal(exampleWorkflow({ out, bits: 3 }, { largeShapes: {} }).lr, EXAMPLE_QC_LR[3]);
  assert.equal(exampleWorkflow({ out, bits: 3 }, { largeShapes: {}, lr: 5e-4 }).lr, 5e-4);
  assert.equal(exampleWorkflow({ out, bits: 3 }, {}).lr, undefined, 'bundled: the workflow default');
});

test('a cancelled example job leaves no corrected model and no reports', async () => {
  const dir = join(out, 'cancelled');
  const ac = new AbortController();
  const ctx = {
    ...quietContext(ac.signal),
    progress: (p: { message: string }) => {
      if (/^mAP: float/.test(p.message)) ac.abort();
    },
  };
  await assert.rejects(runWorkflow(exampleWorkflow({ out: dir }, { steps: 1, batch: 2, limit: 2, deltas: [0.1], perLayer: false }), ctx), { name: 'CancelledError' });
  for (const f of ['report.json', 'report.html', 'w4a4_qc.onnx']) assert.ok(!existsSync(join(dir, f)), f);
});
