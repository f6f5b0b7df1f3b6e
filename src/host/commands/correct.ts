// "Run QC Correction": on an .onnx, or on a PyTorch checkpoint with its (remembered) ONNX export.
// Asks for the data set and calibration count where settings leave them open, writes the corrected
// model beside the input, reveals it, and shows float / QAT / QC mAP side by side.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { askCount, resolveDataset, resolveOnnx } from '../ask';
import { correctionComparison } from '../comparison';
import { type HostContext, settings } from '../context';
import { correctedPath, selectedFiles } from '../targets';

export async function correct(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  const model = await resolveOnnx(ctx, selectedFiles(clicked, all)[0], 'QC Correction');
  if (!model) return;
  const data = await resolveDataset(model);
  if (!data) return;
  const s = settings();
  const calibImages = await askCount(`Calibration images for QC (from ${s.calibrationSet || "the data set's calib/train split"})`, s.calibrationImages);
  if (calibImages === undefined) return;
  const out = correctedPath(model, fs.existsSync);
  const r = await ctx.runner.run(`QC Correction of ${path.basename(model)}`, 'correct', {
    model,
    data,
    out,
    calib: s.calibrationSet || undefined,
    steps: s.qcSteps,
    lr: s.qcLearningRate,
    engine: s.engine,
  });
  if (!r) return;
  ctx.log.info(`QC Correction: wrote ${out}`);
  void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
  ctx.panel.showComparison(correctionComparison(model, out, data, r));
}
