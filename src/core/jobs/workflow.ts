// Job "workflow": the product's main job on the files it is given: oscillation analysis of the QAT
// checkpoints, the soft-rounding probe, QC on the calibration split, and float / QAT / soft-round /
// QC mAP side by side (built by compare/compare.ts). Writes report.json, report.html and the
// corrected ONNX into one folder. `qat-lens example` runs it on the bundled example.
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { AnalysisReport } from '../analysis/types';
import { compareModels } from '../compare/compare';
import { makeScorer } from '../compare/score';
import type { CompareReport } from '../compare/types';
import { qcCurves, toComparison } from '../compare/view';
import { subContext, type JobContext } from '../context';
import { CancelledError, throwIfAborted } from '../errors';
import { atomicWrite } from '../io/atomicWrite';
import { probeModel, type ProbeReport } from '../probe/probe';
import { probeLayersData, probeSectionHtml } from '../probe/probeHtml';
import { reportPage } from '../report/html';
import { shapesDataset } from '../data/shapes/dataset';
import { runAnalyze } from './analyze';
import { HOLDOUT_SPLIT } from '../qc/holdout';
import { runCorrect } from './correct';

export interface WorkflowParams {
  /** The data set: its val split is scored, its calib split trains QC. */
  data: string;
  /** The QAT model as deployed (QDQ ONNX). */
  qat: string;
  /** The float model (ONNX), for the float row and the gap QC recovers. */
  float?: string;
  /** Checkpoints of the QAT run (epoch order) for the oscillation analysis; default: the latent source, else the QAT model. */
  checkpoints?: string[];
  /** Latent weights for the probe: a QDQ ONNX with float weights (same integers as `qat`), or a PyTorch checkpoint. */
  latent?: string;
  /** Output folder (created). */
  out: string;
  /** The corrected model's path (default: OUT/<qat name>_qc.onnx). */
  corrected?: string;
  /** Title of the report page and the comparison. */
  title?: string;
  /** QC Adam steps (default: bundled data 60; large data LARGE_QC's epochs over the calib split). */
  steps?: number;
  /** QC calibration images per step (default: bundled 8, large LARGE_QC.batch). */
  batch?: number;
  /** QC Adam learning rate (default: large data LARGE_QC.lr, bundled 1e-3). */
  lr?: number;
  /** Score only the first N evaluation images. */
  limit?: number;
  deltas?: number[];
  /** The per-layer probe (one layer soft-rounded at a time, on 2 images; default true). */
  perLayer?: boolean;
  engine?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  /**
   * Use the large synthetic shapes set instead of `data`: generated once (src/core/data/shapes:
   * 1000 val, 4000 calib, 500 holdout images) into `dir` or the per-user cache.
   */
  largeShapes?: { dir?: string; counts?: { val: number; calib: number; holdout: number } };
  /** Bootstrap resamples for the intervals of the differences (default 1000; 0: none) and their seed. */
  bootstrap?: number;
  seed?: number;
}

export interface WorkflowResult {
  kind: 'workflow';
  title: string;
  out: string;
  files: { json: string; html: string; corrected: string };
  settings: { steps: number; batch: number; keptStep?: number; heldOutImages?: number; limit?: number; deltas: number[]; checkpoints: string[]; data: string };
  comparison: CompareReport;
  probe: ProbeReport;
  analysis: { layers: number; flagged: string[] };
  seconds: number;
}

const DEFAULTS = { steps: 60, batch: 8, deltas: [0.05, 0.1, 0.25] };
/**
 * QC on the large shapes set: every calib image, shuffled epochs, YOLOv5's cosine schedule, the
 * step chosen on the holdout split by mAP. The row of docs/qc.md's table (bench/qcSweep.ts) that
 * fits `qat-lens example`'s 10-minute budget on 2 cores.
 */
export const LARGE_QC = { epochs: 1, batch: 16, lr: 3e-3, schedule: 'cosine' as const, augment: {}, holdout: HOLDOUT_SPLIT };

export async function runWorkflow(p: WorkflowParams, ctx: JobContext): Promise<WorkflowResult> {
  const t0 = Date.now();
  const latentOnnx = p.latent && extname(p.latent).toLowerCase() === '.onnx' ? p.latent : undefined;
  // The probe reads latent weights from a float-weight QDQ export, or from a checkpoint paired with the QAT model.
  const probeModelFile = latentOnnx ?? p.qat;
  const probePt = latentOnnx ? undefined : p.latent;
  const checkpoints = p.checkpoints?.length ? p.checkpoints : [latentOnnx ?? p.qat];
  const out = resolve(p.out);
  mkdirSync(out, { recursive: true });
  const files = { json: join(out, 'report.json'), html: join(out, 'report.html'), corrected: p.corrected ?? join(out, `${basename(p.qat, extname(p.qat))}_qc.onnx`) };
  const title = p.title ?? `QAT Lens: ${basename(p.qat)}`;
  const large = !!p.largeShapes;
  const batch = p.batch ?? (large ? LARGE_QC.batch : DEFAULTS.batch),
    deltas = p.deltas ?? DEFAULTS.deltas;
  // Large data: epochs over every calib image unless steps are given.
  const qcPlan = large
    ? {
        ...(p.steps ? { steps: p.steps } : { epochs: LARGE_QC.epochs }),
        lr: p.lr ?? LARGE_QC.lr,
        schedule: LARGE_QC.schedule,
        augment: LARGE_QC.augment,
        holdout: LARGE_QC.holdout,
        calibCount: Number.MAX_SAFE_INTEGER,
      }
    : { steps: p.steps ?? DEFAULTS.steps, lr: p.lr };
  // The evaluation split (val) is never used for fitting or choosing: QC fits on calib.
  const data = p.largeShapes ? await shapesDataset({ dir: p.largeShapes.dir, ...p.largeShapes.counts }, subContext(ctx, 'data', 0, 0)) : p.data;
  const scorer = makeScorer(); // one data set, images decoded once for every model
  const qcText = 'epochs' in qcPlan ? `${qcPlan.epochs} epoch(s) over the calib split, ${batch} images a step` : `${qcPlan.steps} steps × ${batch} calib images`;
  ctx.log('info', `${title}: ${checkpoints.length} checkpoint(s), evaluation split val${p.limit ? ` (first ${p.limit} images)` : ''}, QC ${qcText}`);

  // 1. Oscillation analysis of the checkpoint sequence. Progress shares: 5 / 35 / 40 / 20 %.
  const analysis = (await runAnalyze({ files: checkpoints }, subContext(ctx, 'analysis', 0, 0.05))).report as AnalysisReport;
  const flagged = analysis.layers.filter((l) => l.flagged).map((l) => l.name);
  ctx.log('info', `analysis: ${flagged.length} of ${analysis.layers.length} layers flagged`);
  throwIfAborted(ctx.signal);

  // 2. Soft-rounding probe (same integers as the QAT model), per layer on a few images.
  const probe = await probeModel(
    probeModelFile,
    { data, deltas, pt: probePt, perLayer: p.perLayer !== false, perLayerImages: 2, flagged, engine: p.engine, limit: p.limit },
    subContext(ctx, 'probe', 0.05, 0.35),
    scorer,
  );
  for (const f of probe.findings) ctx.log('info', f);

  // 3. QC on the calibration split. evaluate: false: the comparison scores QAT and QC on the same decoded images.
  const qc = await runCorrect({ model: p.qat, data, calib: 'calib', ...qcPlan, batch, engine: p.engine, out: files.corrected, evaluate: false }, subContext(ctx, 'QC', 0.4, 0.4));
  const steps = qc.steps;
  ctx.log('info', `QC: ${qc.steps} steps on onnxruntime ${qc.device}, loss ${qc.lossCurve[0]?.toFixed(3)} → ${qc.lossCurve[qc.lossCurve.length - 1]?.toFixed(3)}`);

  try {
    throwIfAborted(ctx.signal);
    // 4. Side by side: float, QAT as deployed, the probe's variants (already scored), QC.
    const comparison = await compareModels(
      {
        data,
        qat: p.qat,
        float: p.float,
        bootstrap: p.bootstrap,
        seed: p.seed,
        corrected: files.corrected,
        engine: p.engine,
        limit: p.limit,
        title: `${title}: float / QAT / soft-round / QC`,
        outputs: [{ label: 'corrected model', file: files.corrected }],
        notes: [
          `QC: ${steps} Adam steps × ${batch} labelled calibration images (${qc.calib.images} in the calib split${qc.schedule === 'cosine' ? ', cosine schedule' : ''}, lr ${qc.lr}), evaluated on the val split`,
          ...probe.notes,
        ],
        variants: { entries: [{ ...probe.baseline, label: 'QAT hard δ=0 (float weights)' }, ...probe.soft, ...(probe.latent ? [probe.latent] : [])], latentFrom: probe.latentFrom },
      },
      subContext(ctx, 'mAP', 0.8, 0.2),
      scorer,
    );
    // The probe's rows were copied into the comparison; their per-image matches served the intervals.
    for (const e of [probe.baseline, ...probe.soft, ...(probe.latent ? [probe.latent] : [])]) delete e.perImage;
    const g = comparison.gapRecovered;
    if (g) ctx.log('info', `QC recovers ${(g.map * 100).toFixed(1)}% of the float → QAT gap in mAP@.5:.95`);

    const inputs = [p.qat, ...(p.latent ? [p.latent] : []), ...(p.float ? [p.float] : []), ...checkpoints];
    const settings = { steps, batch, keptStep: qc.heldOut?.keptStep, heldOutImages: qc.heldOut?.images, limit: p.limit, deltas, checkpoints, data };
    const report = { kind: 'qat-lens workflow report', title, settings, analysis, probe, qc, comparison };
    await atomicWrite(files.json, `${JSON.stringify(report, null, 1)}\n`, { signal: ctx.signal, inputs });
    const page = reportPage({
      title,
      data: {
        analysis: { report: analysis, engine: 'none needed (weights only)' },
        comparison: toComparison(comparison, comparison.comparison.title, { qc: qcCurves(qc) }),
        probeLayers: probeLayersData(probe),
      },
      sectionsHtml: probeSectionHtml(probe),
    });
    await atomicWrite(files.html, page, { signal: ctx.signal, inputs });
    ctx.progress({ message: 'done', fraction: 1 });
    comparison.seconds = (Date.now() - t0) / 1000;
    return { kind: 'workflow', title, out, files, settings, comparison, probe, analysis: { layers: analysis.layers.length, flagged }, seconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    // A cancelled workflow leaves no corrected model behind (the reports are written atomically, last).
    if (err instanceof CancelledError) await rm(files.corrected, { force: true });
    throw err;
  }
}
