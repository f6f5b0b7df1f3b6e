// The comparison's bootstrap intervals (src/core/compare/intervals.ts) on the reference fixture of
// test/fixtures/bootstrap: each row's interval against QAT and QC's share of the gap equal the
// Python reference's, and the terminal, HTML and JSON outputs carry them, with "not
// distinguishable from noise" where an interval contains 0.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachIntervals } from '../../src/core/compare/intervals';
import { toScored } from '../../src/core/compare/score';
import { compareSummary } from '../../src/core/compare/table';
import type { CompareEntry, CompareReport } from '../../src/core/compare/types';
import { gapRecovered } from '../../src/core/compare/compare';
import { toComparison } from '../../src/core/compare/view';
import { reportPage } from '../../src/core/report/html';
import { evaluateCoco } from '../../src/core/eval/cocoeval';

const fx = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'bootstrap', 'paired.json'), 'utf8'));
const TOL = 1e-12;
const near = (a: readonly number[], b: readonly number[], what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= TOL, `${what}[${i}]: ${v} vs ${b[i]}`));

function entries(): CompareEntry[] {
  const row = (label: string, role: CompareEntry['role'], dets: unknown) => ({ ...toScored(evaluateCoco(fx.gt, dets as never, { perImage: true })), label, role });
  return [row('float', 'float', fx.dets.float), row('QAT', 'qat', fx.dets.qat), row('QC', 'qc', fx.dets.qc), row('QAT again', 'qc', fx.dets.qat)];
}

test('each row against QAT and the share of the gap: the reference intervals', () => {
  const es = entries();
  const gap = gapRecovered(es.slice(0, 3))!;
  const info = attachIntervals(es, gap, { resamples: fx.resamples, seed: fx.seed })!;
  assert.deepEqual({ ...info, ms: 0 }, { resamples: fx.resamples, seed: fx.seed, images: fx.gt.images.length, ms: 0 });
  const [f, q, c, same] = es;
  assert.equal(q.vsRef, undefined);
  near(c.vsRef!.mapCi, fx.expected.qcMinusQat.map, 'QC - QAT');
  near(c.vsRef!.map50Ci, fx.expected.qcMinusQat.map50, 'QC - QAT @.5');
  near(f.vsRef!.mapCi, fx.expected.floatMinusQat.map, 'float - QAT');
  near(gap.mapCi!, fx.expected.gapShare.map, 'share of the gap');
  near(gap.map50Ci!, fx.expected.gapShare.map50, 'share of the gap @.5');
  assert.equal(c.vsRef!.against, 'QAT');
  assert.equal(c.vsRef!.map, c.map - q.map);
  assert.equal(c.vsRef!.noise, false);
  assert.deepEqual(same.vsRef!.mapCi, [0, 0]);
  assert.equal(same.vsRef!.noise, true);
  for (const e of es) assert.equal(e.perImage, undefined);
});

test('terminal, HTML and JSON show the intervals and the words for noise', () => {
  const es = entries();
  const gap = gapRecovered(es.slice(0, 3));
  const bootstrap = attachIntervals(es, gap, { resamples: 200, seed: 3 })!;
  const r: CompareReport = { kind: 'compare', comparison: { title: 't', entries: es, bootstrap }, gapRecovered: gap, seconds: 0 };
  const text = compareSummary(r).join('\n');
  assert.match(text, /95% CI of Δ/);
  assert.match(text, /QAT again vs QAT: mAP@\.5:\.95 \+0\.00 \(95% CI \[\+0\.00, \+0\.00\], not distinguishable from noise\)/);
  assert.match(text, /QC vs QAT: mAP@\.5:\.95 \+\d+\.\d\d \(95% CI \[\+\d+\.\d\d, \+\d+\.\d\d\]\);/);
  assert.match(text, /QC recovers \d+\.\d% \(95% CI \[\+\d+\.\d%, \+\d+\.\d%\]\) of the float → QAT gap/);
  assert.match(text, /200 resamples of the 30 images, seed 3/);
  // The HTML report embeds the panel's comparison view model, intervals included; its script draws
  // them with the panel's own table (webview/mapView.ts), the gap sentence names the interval.
  const view = toComparison(r, 't');
  assert.match(view.notes![0]!, /QC recovered \d+\.\d% \(95% CI \[/);
  const html = reportPage({ title: 't', data: { comparison: view }, plotlyJs: '' });
  const embedded = JSON.parse(/<script id="qat-lens-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!.replace(/\\u003c/g, '<'));
  assert.deepEqual(
    embedded.comparison.entries.map((e: { vsRef?: { noise: boolean } }) => e.vsRef?.noise),
    [false, undefined, false, true],
  );
  assert.equal(embedded.comparison.bootstrap.resamples, 200);
  const json = JSON.parse(JSON.stringify(r));
  assert.equal(json.comparison.entries[2].vsRef.noise, false);
  assert.equal(json.comparison.bootstrap.resamples, 200);
  assert.ok(!JSON.stringify(r).includes('perImage'));
});

test('no intervals with 0 resamples, and per-image matches still dropped', () => {
  const es = entries();
  assert.equal(attachIntervals(es, undefined, { resamples: 0 }), undefined);
  assert.ok(es.every((e) => e.vsRef === undefined && e.perImage === undefined));
});
