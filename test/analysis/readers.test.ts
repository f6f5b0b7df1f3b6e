// `analyze` end to end through the real readers (PyTorch zip pickles, safetensors, ONNX), against
// numbers computed by numpy from the same files loaded with torch / onnx
// (tools/fixtures/analysis/make_reader_cases.py), plus the job's JSON/HTML outputs and the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeCheckpoints } from '../../src/core/analysis/analyzeCheckpoints';
import type { AnalysisReport } from '../../src/core/analysis/types';
import { quietContext } from '../../src/core/context';
import { runAnalyze } from '../../src/core/jobs/analyze';
import { readCheckpoint } from '../../src/core/readers/index';

const fx = join(__dirname, '..', 'fixtures');
const exp = JSON.parse(readFileSync(join(fx, 'analysis', 'readers_expected.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'qat-lens-analysis-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const close = (a: number | null, b: number | null, tol: number, what: string) => {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

/** Sequence statistics of each named layer against numpy's (flips, reversals, scale movement). */
function checkSequence(r: AnalysisReport, expected: Record<string, any>): void {
  for (const [name, x] of Object.entries<any>(expected)) {
    const l = r.sequence!.layers.find((y) => y.name === name)!;
    l.flipFractions.forEach((f, i) => close(f, x.flipFractions[i], 1e-15, `${name} flips`));
    close(l.meanReversals, x.meanReversals, 1e-15, `${name} reversals`);
    close(l.reversalShare, x.reversalShare, 1e-15, `${name} reversal share`);
    l.scaleRelativeChange.forEach((v, i) => close(v, x.scaleRelativeChange[i], 1e-12, `${name} scale change`));
    close(l.scaleCV, x.scaleCV, 1e-12, `${name} CV`);
  }
}

function checkLayers(r: AnalysisReport, e: any, file: string) {
  assert.deepEqual(r.layers.map((l) => l.name).sort(), Object.keys(e.layers).sort(), `${file}: layer names`);
  for (const l of r.layers) {
    const x = e.layers[l.name];
    const what = `${file} ${l.name}`;
    close(l.clippedFraction, x.clippedFraction, 0, `${what} clipped`);
    assert.equal(l.inRange, x.inRange, `${what} in range`);
    close(l.nearThresholdFraction, x.nearThresholdFraction, 0, `${what} NT`);
    close(l.concentration, x.concentration, 1e-12, `${what} C`);
    close(l.meanDistance, x.meanDistance, 1e-12, `${what} mean d`);
    assert.deepEqual(l.histogram, x.histogram, `${what} histogram`);
    if (x.perChannelNT) l.perChannel!.nearThresholdFraction.forEach((v, i) => close(v, x.perChannelNT[i], 1e-15, `${what} NT channel ${i}`));
  }
}

for (const [file, e] of Object.entries<any>(exp.files)) {
  test(`${file}: per-layer quantities through readCheckpoint match numpy`, async () => {
    const ck = await readCheckpoint(join(fx, 'readers', file));
    const r = analyzeCheckpoints([ck], { delta: exp.delta });
    assert.equal(r.checkpoints[0].analyzedVariant, e.variant);
    assert.equal(r.checkpoints[0].epoch, e.epoch);
    checkLayers(r, e, file);
    if (e.modelVsEma) {
      const m = r.modelVsEma![0];
      for (const [name, f] of Object.entries<number>(e.modelVsEma)) {
        close(m.layers.find((l) => l.name === name)!.flipFraction, f, 1e-15, `${name} model vs ema`);
        close(r.layers.find((l) => l.name === name)!.modelVsEmaFlipFraction!, f, 1e-15, `${name} on layer`);
      }
      assert.ok(m.flipFraction > 0, 'model and ema differ in the fixture');
    }
  });
}

test('integer-only ONNX layers: N/A, not fake numbers', async () => {
  const ck = await readCheckpoint(join(fx, 'readers', 'onnx_uint8_zp.onnx'));
  const r = analyzeCheckpoints([ck]);
  assert.equal(r.summary.integerOnlyCount, r.layers.length);
  for (const l of r.layers) {
    assert.equal(l.hasLatent, false);
    assert.equal(l.concentration, null);
    assert.equal(l.histogram, null);
    assert.equal(l.flagged, false);
    assert.match(l.reason, /integer weights only .* N\/A/);
  }
});

test('a 3-checkpoint run through the job: ordered by epoch, flips/reversals/scales match numpy, JSON and HTML written', async () => {
  const s = exp.sequence;
  const files = ['run_a.pt', 'run_b.pt', 'run_c.pt'].map((f) => join(fx, 'analysis', 'seq', f));
  const jsonOut = join(tmp, 'report.json');
  const htmlOut = join(tmp, 'report.html');
  const { report: r } = await runAnalyze({ files, jsonOut, htmlOut }, quietContext());
  assert.deepEqual(
    r.sequence!.order.map((o) => o.epoch),
    s.epochs,
  );
  assert.deepEqual(
    r.summary.files,
    s.files.map((f: string) => join(fx, 'analysis', 'seq', f)),
  );
  checkSequence(r, s.layers);
  for (const [name, x] of Object.entries<any>(s.layers)) {
    r.sequence!.layers.find((y) => y.name === name)!.concentration.forEach((v, i) => close(v, x.concentration[i], 1e-12, `${name} C at ${i}`));
  }
  assert.ok(r.sequence!.layers.find((l) => l.name === 'conv1')!.meanReversals > 0);
  const json = JSON.parse(readFileSync(jsonOut, 'utf8'));
  assert.equal(json.schema, 'qat-lens/analysis@1');
  assert.deepEqual(
    json.sequence.layers.map((l: any) => l.name),
    r.sequence!.layers.map((l) => l.name),
  );
  const html = readFileSync(htmlOut, 'utf8');
  assert.ok(html.length > 3_000_000, 'Plotly is inlined');
  assert.ok(!/<script[^>]+src=/i.test(html), 'no external scripts');
  const embedded = JSON.parse(/<script id="qat-lens-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]);
  assert.equal(embedded.analysis.report.layers.length, r.layers.length);
  assert.match(html, /drawAnalysisCharts|chart-concentration/, 'the report script (the panel views) is inlined');
});

test('the job refuses to write over an input and names the file', async () => {
  const file = join(fx, 'readers', 'lsq_module.pt');
  await assert.rejects(runAnalyze({ files: [file], jsonOut: file }, quietContext()), /lsq_module\.pt: refusing to write over an input file/);
});

const bin = join(__dirname, '..', '..', 'bin', 'qat-lens.js');
test('CLI prints a readable table', { skip: !existsSync(join(__dirname, '..', '..', 'dist', 'cli.js')) && 'not built' }, () => {
  const r = spawnSync(process.execPath, [bin, 'analyze', join(fx, 'readers', 'yolov5_style_fp16.pt'), '--delta', '0.1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^models\.yolo\.DetectionModel/m);
  assert.match(r.stdout, /δ = 0\.1/);
  assert.match(r.stdout, /^\s+layer\s+bits\s+gran\s+weights\s+scale\s+clipped\s+NT\s+C\s+mean d\s+z\s+p adj$/m);
  assert.match(r.stdout, /model\.0\.conv\s+4\s+tensor\s+216\s/);
  assert.match(r.stdout, /model vs ema \(share of integer states that differ\):\n\s+yolov5_style_fp16\.pt: \d+\.\d\d%/);
});

// The bundled example's QAT run (tools/example; expectations from make_example_cases.py).
const exDir = join(__dirname, '..', '..', 'examples', 'shapes', 'w4a4');
const exExpected = join(fx, 'analysis', 'example_expected.json');
const ex = existsSync(exExpected) ? JSON.parse(readFileSync(exExpected, 'utf8')) : null;
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
test('the example run (epochs of a real 4-bit QAT training): quantities, model vs ema, sequence vs numpy', async () => {
  // Expectations belong to one build of the committed example: a rebuilt example needs them regenerated.
  assert.ok(ex, `${exExpected} is missing`);
  ex.files.forEach((f: string, i: number) =>
    assert.equal(sha256(join(exDir, f)), ex.sha256[i], `${f} changed since its expectations were made: rerun /usr/bin/python3 tools/fixtures/analysis/make_example_cases.py`),
  );
  const { report: r } = await runAnalyze({ files: [...ex.files].reverse().map((f: string) => join(exDir, f)) }, quietContext());
  assert.deepEqual(
    r.sequence!.order.map((o) => o.epoch),
    ex.epochs,
  );
  checkLayers(r, { layers: ex.last }, 'example');
  for (const [name, f] of Object.entries<number>(ex.modelVsEma ?? {})) close(r.layers.find((l) => l.name === name)!.modelVsEmaFlipFraction!, f, 1e-15, `${name} model vs ema`);
  checkSequence(r, ex.sequence);
});
