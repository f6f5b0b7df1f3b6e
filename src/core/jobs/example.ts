// Job "example": the product's main job on the bundled example (examples/shapes, W4A4 or W3A3):
// oscillation analysis of the QAT checkpoints, the soft-rounding probe, QC, and float / QAT /
// soft-round / QC mAP side by side. Writes report.json, report.html and the corrected ONNX.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { AnalysisReport } from '../analysis/types';
import { gapRecovered, hardNote, subContext } from '../compare/compare';
import { compareSectionHtml } from '../compare/html';
import { addSections } from '../compare/page';
import { makeScorer } from '../compare/score';
import type { CompareEntry, CompareReport } from '../compare/types';
import { CancelledError, QatLensError, throwIfAborted } from '../errors';
import { atomicWrite } from '../io/atomicWrite';
import { probeModel, type ProbeReport } from '../probe/probe';
import { probeSectionHtml } from '../probe/probeHtml';
import { buildHtmlReport } from '../report/html';
import { runAnalyze } from './analyze';
import type { JobContext } from './context';
import { runCorrect, type CorrectResult } from './correct';

export interface ExampleParams {
  /** The example folder (default: the bundled examples/shapes). */
  dir?: string;
  /** Output folder (default ./qat-lens-example-out). */
  out?: string;
  bits?: 4 | 3;
  /** QC Adam steps (default 60: a few minutes on 2 CPU cores). */
  steps?: number;
  /** QC calibration images per step (default 8). */
  batch?: number;
  /** Score only the first N evaluation images (default all 200). */
  limit?: number;
  deltas?: number[];
  /** The per-layer probe (one layer soft-rounded at a time, on 2 images; default true). */
  perLayer?: boolean;
  engine?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
}

export interface ExampleResult {
  kind: 'example';
  dir: string;
  out: string;
  files: { json: string; html: string; corrected: string };
  settings: { bits: number; steps: number; batch: number; limit?: number; deltas: number[]; checkpoints: string[] };
  comparison: CompareReport;
  probe: ProbeReport;
  analysis: { layers: number; flagged: string[] };
  seconds: number;
}

const DEFAULTS = { steps: 60, batch: 8, deltas: [0.05, 0.1, 0.25] };

/** The bundled example: beside the package (../examples from dist/ or src/core/jobs), else in the working folder. */
export function findExampleDir(): string {
  const tried: string[] = [];
  for (let d = __dirname; ; d = dirname(d)) {
    const c = join(d, 'examples', 'shapes');
    tried.push(c);
    if (existsSync(join(c, 'data.yaml'))) return c;
    if (dirname(d) === d) break;
  }
  const c = resolve('examples', 'shapes');
  if (existsSync(join(c, 'data.yaml'))) return c;
  throw new QatLensError(`the bundled example was not found (looked for examples/shapes/data.yaml above ${__dirname} and in ${process.cwd()}); pass --dir`);
}

function need(file: string, what: string): string {
  if (!existsSync(file)) throw new QatLensError(`missing ${what}; the example is incomplete (see examples/shapes/README.md)`, file, 'ENOENT');
  return file;
}

/** epoch_*.pt of a run folder, in epoch order. */
export function epochCheckpoints(dir: string): string[] {
  if (!existsSync(dir)) throw new QatLensError('run folder not found', dir, 'ENOENT');
  const files = readdirSync(dir).filter((f) => /^epoch_?\d+\.pt$/.test(f));
  if (files.length === 0) throw new QatLensError('no epoch_*.pt checkpoints in this folder', dir, 'ENOENT');
  const n = (f: string) => Number(/\d+/.exec(f)![0]);
  return files.sort((a, b) => n(a) - n(b)).map((f) => join(dir, f));
}

export async function runExample(p: ExampleParams, ctx: JobContext): Promise<ExampleResult> {
  const t0 = Date.now();
  const dir = resolve(p.dir ?? findExampleDir());
  const bits = p.bits ?? 4;
  const run = join(dir, `w${bits}a${bits}`);
  const data = need(join(dir, 'data.yaml'), 'data.yaml');
  const floatOnnx = need(join(dir, 'float.onnx'), 'float model');
  const qdq = need(join(run, 'qdq.onnx'), `W${bits}A${bits} QDQ model`);
  const checkpoints = epochCheckpoints(run);
  // Latent weights for the probe: the float-weight QDQ export where there is one, else the last
  // checkpoint paired with the integer QDQ model (the W3A3 run ships no latent export).
  const latentOnnx = existsSync(join(run, 'qdq_latent.onnx')) ? join(run, 'qdq_latent.onnx') : undefined;
  const probeModelFile = latentOnnx ?? qdq;
  const probePt = latentOnnx ? undefined : checkpoints[checkpoints.length - 1];
  const out = resolve(p.out ?? 'qat-lens-example-out');
  mkdirSync(out, { recursive: true });
  const files = { json: join(out, 'report.json'), html: join(out, 'report.html'), corrected: join(out, `w${bits}a${bits}_qc.onnx`) };
  const steps = p.steps ?? DEFAULTS.steps, batch = p.batch ?? DEFAULTS.batch, deltas = p.deltas ?? DEFAULTS.deltas;
  const opts = { engine: p.engine, limit: p.limit };
  const scorer = makeScorer(); // one data set, images decoded once for every model
  ctx.log('info', `example: ${run} (${checkpoints.length} checkpoints), evaluation split val${p.limit ? ` (first ${p.limit} images)` : ''}, QC ${steps} steps × ${batch} calib images`);

  // 1. Oscillation analysis of the checkpoint sequence. Progress shares: 5 / 35 / 40 / 20 %.
  const analysis = (await runAnalyze({ files: checkpoints }, subContext(ctx, 'analysis', 0, 0.05))).report as AnalysisReport;
  const flagged = analysis.layers.filter((l) => l.flagged).map((l) => l.name);
  ctx.log('info', `analysis: ${flagged.length} of ${analysis.layers.length} layers flagged`);
  throwIfAborted(ctx.signal);

  // 2. Soft-rounding probe on the latent QDQ export (same integers as qdq.onnx), per layer on a few images.
  const probe = await probeModel(probeModelFile, { data, deltas, pt: probePt, perLayer: p.perLayer !== false, perLayerImages: 2, flagged, engine: p.engine, limit: p.limit }, subContext(ctx, 'probe', 0.05, 0.35), scorer);
  for (const f of probe.findings) ctx.log('info', f);

  // 3. QC on the calibration split, written next to the report.
  // evaluate: false: the comparison below scores QAT and QC on the same decoded images.
  const qc: CorrectResult = await runCorrect({ model: qdq, data, calib: 'calib', steps, batch, engine: p.engine, out: files.corrected, evaluate: false }, subContext(ctx, 'QC', 0.4, 0.4));
  ctx.log('info', `QC: ${qc.steps} steps on onnxruntime ${qc.device}, loss ${qc.lossCurve[0]?.toFixed(3)} → ${qc.lossCurve[qc.lossCurve.length - 1]?.toFixed(3)}`);

  try {
    throwIfAborted(ctx.signal);
    return await compareAndWrite();
  } catch (err) {
    // A cancelled example leaves no corrected model behind (the reports are written atomically, last).
    if (err instanceof CancelledError) await rm(files.corrected, { force: true });
    throw err;
  }

  async function compareAndWrite(): Promise<ExampleResult> {
  // 4. Side by side: float, QAT as deployed, the probe's variants (already scored), QC.
  const entries: CompareEntry[] = [];
  const score = async (label: string, role: CompareEntry['role'], file: string, start: number) => {
    const t = Date.now();
    const s = await scorer(file, data, opts, subContext(ctx, label, start, 0.066));
    entries.push({ ...s, label, role, file, seconds: (Date.now() - t) / 1000 });
  };
  await score('float', 'float', floatOnnx, 0.8);
  await score('QAT', 'qat', qdq, 0.866);
  entries.push({ ...probe.baseline, label: 'QAT hard δ=0 (float weights)' }, ...probe.soft, ...(probe.latent ? [probe.latent] : []));
  await score('QC', 'qc', files.corrected, 0.933);
  const comparison: CompareReport = {
    kind: 'compare',
    comparison: {
      title: `Bundled example, W${bits}A${bits}: float / QAT / soft-round / QC`, data, prIou: '.50:.95', entries,
      outputs: [{ label: 'corrected model', file: files.corrected }],
      notes: [`QC: ${steps} Adam steps × ${batch} labelled calibration images (calib split), evaluated on the val split`, ...probe.notes],
    },
    gapRecovered: gapRecovered(entries),
    latentFrom: probe.latentFrom,
    engine: entries[0]?.engine,
    images: entries[0]?.images,
    seconds: 0,
  };
  comparison.comparison.notes!.push(hardNote(entries));
  const g = comparison.gapRecovered;
  if (g) ctx.log('info', `QC recovers ${(g.map * 100).toFixed(1)}% of the float → QAT gap in mAP@.5:.95`);

  const inputs = [qdq, ...(latentOnnx ? [latentOnnx] : []), floatOnnx, ...checkpoints];
  const settings = { bits, steps, batch, limit: p.limit, deltas, checkpoints };
  const report = { kind: 'qat-lens example report', example: dir, settings, analysis, probe, qc, comparison };
  await atomicWrite(files.json, `${JSON.stringify(report, null, 1)}\n`, { signal: ctx.signal, inputs });
  const page = addSections(buildHtmlReport(analysis, { title: `QAT Lens: bundled example W${bits}A${bits}` }), compareSectionHtml(comparison) + '\n' + probeSectionHtml(probe));
  await atomicWrite(files.html, page, { signal: ctx.signal, inputs });
  ctx.progress({ message: 'done', fraction: 1 });
  comparison.seconds = (Date.now() - t0) / 1000;
  return {
    kind: 'example', dir, out, files, settings, comparison, probe,
    analysis: { layers: analysis.layers.length, flagged }, seconds: (Date.now() - t0) / 1000,
  };
  }
}
