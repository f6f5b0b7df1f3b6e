// Side-by-side comparison: real onnxruntime runs of small committed detectors, JSON and HTML outputs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gapRecovered } from '../../src/core/compare/compare';
import { compareTable } from '../../src/core/compare/table';
import type { CompareEntry, CompareReport } from '../../src/core/compare/types';
import { quietContext } from '../../src/core/context';
import { runCompare } from '../../src/core/jobs/compare';

const dir = mkdtempSync(join(tmpdir(), 'qat-lens-compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fx = join(__dirname, '..', 'fixtures', 'pipeline');

test('compare: float and QAT scored on the same images; JSON and self-contained HTML written', async () => {
  const json = join(dir, 'c.json'),
    html = join(dir, 'c.html');
  const r = await runCompare({ data: join(fx, 'data.yaml'), qat: join(fx, 'qdq.onnx'), float: join(fx, 'float.onnx'), deltas: [0.1], jsonOut: json, htmlOut: html }, quietContext());
  const j = JSON.parse(readFileSync(json, 'utf8')) as CompareReport;
  assert.equal(r.jsonOut, json);
  assert.equal(j.kind, 'compare');
  assert.deepEqual(
    j.comparison.entries.map((e) => [e.label, e.role]),
    [
      ['float', 'float'],
      ['QAT', 'qat'],
    ],
  );
  for (const e of j.comparison.entries) {
    assert.ok(e.map >= 0 && e.map <= 1 && e.map50 >= e.map, `${e.label}: mAP ${e.map}, mAP50 ${e.map50}`);
    assert.equal(e.images, 4);
    assert.equal(e.engine, 'cpu');
    assert.ok(e.pr && e.pr.recall.length === e.pr.precision.length);
  }
  // Integer-only QAT ONNX without --latent: the variants are skipped, and the report says why.
  assert.ok(j.comparison.notes!.some((n) => /integer weights only/.test(n)));
  assert.deepEqual(
    r.comparison.entries.map((e: CompareEntry) => e.map),
    j.comparison.entries.map((e) => e.map),
  );
  const page = readFileSync(html, 'utf8');
  assert.ok(page.length > 1_000_000, 'Plotly inlined');
  assert.doesNotMatch(page, /<script[^>]+src=/);
  // The page embeds the comparison the panel shows, and the report script that draws it (the panel's bar and PR charts).
  const data = JSON.parse(/<script id="qat-lens-data" type="application\/json">([\s\S]*?)<\/script>/.exec(page)![1]);
  assert.deepEqual(
    data.comparison.entries.map((e: CompareEntry) => e.map),
    r.comparison.entries.map((e) => e.map),
  );
  assert.match(page, /chart-map-bars/);
});

test('compare refuses to write over an input and leaves no file', async () => {
  const qat = join(fx, 'qdq.onnx');
  await assert.rejects(runCompare({ data: join(fx, 'data.yaml'), qat, deltas: [], jsonOut: qat }, quietContext()), /refusing to write over an input/);
  assert.ok(existsSync(qat));
});

test('gap recovered and the table read the right entries', () => {
  const e = (label: string, role: CompareEntry['role'], map: number, map50: number): CompareEntry => ({ label, role, map, map50 });
  const entries = [e('float', 'float', 0.6, 0.8), e('QAT', 'qat', 0.4, 0.7), e('QC', 'qc', 0.45, 0.72)];
  const g = gapRecovered(entries)!;
  assert.ok(Math.abs(g.map - 0.25) < 1e-12 && Math.abs(g.map50 - 0.2) < 1e-12);
  const lines = compareTable(entries);
  assert.match(lines[2], /^float\s+60\.0\s+80\.0\s+\+20\.0$/);
  assert.match(lines[4], /^QC\s+45\.0\s+72\.0\s+\+5\.0$/);
  assert.equal(gapRecovered(entries.slice(0, 2)), undefined);
});

test('CLI: compare/probe/example flags are checked and engine errors name the file', async () => {
  const { spawnSync } = await import('node:child_process');
  const bin = join(__dirname, '..', '..', 'bin', 'qat-lens.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  let r = run('compare', '--data', join(fx, 'data.yaml'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--qat is required/);
  r = run('example', '--bits', '5');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--bits must be 4 or 3/);
  r = run('probe', join(fx, 'qdq.onnx'), '--data', join(fx, 'data.yaml'), '--delta', '0.7');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--delta must be a comma-separated list of numbers in \[0, 0.5\]/);
  r = run('probe', join(fx, 'qdq.onnx'), '--data', join(fx, 'data.yaml'));
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`${join(fx, 'qdq.onnx')}: stores 6 layers as integers only`), r.stderr);
  assert.match(r.stderr, /--pt CHECKPOINT/);
});
