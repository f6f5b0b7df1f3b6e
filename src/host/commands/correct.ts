// "Run QC Correction": on an .onnx, or on a PyTorch checkpoint with its (remembered) ONNX export.
// Asks for the data set and calibration count where settings leave them open, writes the corrected
// model beside the input, reveals it, then scores float / QAT / QC (and soft-round δ where a probe
// ran on this model) on the same images, side by side.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { askCount, resolveDataset, resolveOnnx } from '../ask';
import { qcCurves, toComparison } from '../../core/compare/view';
import { type HostContext, probedDeltas, settings } from '../context';
import { findFloatModel } from '../models';
import { correctedPath, selectedFiles } from '../targets';
import { formatAnchors } from '../../core/infer/headText';
import { ensureTrusted } from '../trust';

export async function correct(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  if (!(await ensureTrusted('run-qc', 'QC Correction'))) return;
  const model = await resolveOnnx(ctx, selectedFiles(clicked, all)[0], 'QC Correction');
  if (!model) return;
  const data = await resolveDataset(model);
  if (!data) return;
  const s = settings();
  const calibCount = await askCount(`QC: how many calibration images (from ${s.calibrationSet || "the data set's calib or train split"})?`, s.calibrationImages);
  if (calibCount === undefined) return;
  const out = correctedPath(model, fs.existsSync);
  const r = await ctx.runner.run(`QC Correction of ${path.basename(model)}`, 'correct', {
    model,
    data,
    out,
    calib: s.calibrationSet || undefined,
    calibCount,
    steps: s.qcSteps,
    batch: s.qcBatchSize,
    lr: s.qcLearningRate,
    holdout: s.qcHoldout === 'none' ? undefined : s.qcHoldout,
    engine: s.engine,
    nms: s.nms,
    anchorsSetting: s.anchors || undefined,
    // The comparison below scores every model on the same images in one job.
    evaluate: false,
  });
  if (!r) return;
  ctx.log.info(
    `QC Correction: wrote ${out} (trained on ${r.device}, ${r.steps} steps, micro-batch ${r.microBatch}, peak memory ${r.peakMemoryMB} MB, ${r.calib.images} calibration images${r.clampedChannels ? `, ${r.clampedChannels} channels with γ clamped` : ''})`,
  );
  for (const n of r.engineNotes) ctx.log.info(`QC Correction: ${n}`);
  void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
  const float = findFloatModel(model, (d) => fs.readdirSync(d));
  if (!float) ctx.log.info(`QC Correction: no float ONNX (name with "float"/"fp32") beside ${model}: the comparison shows QAT and QC only`);
  const deltas = probedDeltas(ctx, model);
  const c = await ctx.runner.run(`mAP: ${float ? 'float / ' : ''}QAT / QC`, 'compare', {
    data,
    qat: model,
    float,
    corrected: out,
    deltas,
    latentVariant: false,
    engine: s.engine,
    nms: s.nms,
    anchorsSetting: s.anchors || undefined,
    limit: s.evalLimit || undefined,
    title: 'QC Correction',
  });
  if (!c) return;
  const how = `QC: ${r.steps} Adam steps of ${r.batch} images (lr ${r.lr}) on ${r.calib.images} calibration images (split "${r.calib.split}"), trained on ${r.device}${r.clampedChannels ? `; ${r.clampedChannels} channels had γ clamped` : ''}.`;
  const heads = `Heads: ${r.heads.family}, strides ${r.heads.strides.join('/')}, ${r.heads.anchors.length ? `anchors ${formatAnchors(r.heads.anchors)} (from ${r.heads.anchorSource})` : 'anchor-free'}; loss: ${r.objective}.`;
  ctx.panel.showComparison(toComparison(c, 'QC Correction', { outputs: [{ label: 'corrected model', file: out }], lead: [how, heads], variantsAsked: deltas.length > 0, qc: qcCurves(r) }));
}
