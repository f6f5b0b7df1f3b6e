// "Precision Plan": which layers to keep at 8 bits, measured in mAP. On an .onnx (latent weights
// from the ONNX itself or a checkpoint the user picks) or on a .pt (its ONNX export is paired as for
// QC). Asks what the plan should aim for, writes the plan's what-if model beside the input, and
// shows the per-layer table and charts in the panel.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveDataset, resolveOnnx, pickFiles } from '../ask';
import { type HostContext, settings } from '../context';
import { findFloatModel } from '../models';
import { besidePath, checkpointCandidates, isOnnx, selectedFiles } from '../targets';

/** Latent weights: a checkpoint beside the model, the ONNX's own, or one the user browses to. null: cancelled. */
async function askLatent(model: string): Promise<string | undefined | null> {
  const pts = checkpointCandidates(model, (d) => fs.readdirSync(d));
  const own = { label: "The ONNX model's own float weights", description: 'exports with float W → QuantizeLinear → Clip → DequantizeLinear', file: '' };
  const browse = { label: 'Browse…', description: 'another checkpoint (.pt)', file: '?' };
  const items = [...pts.map((p) => ({ label: path.basename(p), description: 'latent weights from this checkpoint', file: p })), own, browse];
  const pick = await vscode.window.showQuickPick(items, { title: `Precision plan: where are the latent (float) weights of ${path.basename(model)}?`, ignoreFocusOut: true });
  if (!pick) return null;
  if (pick === browse) return (await pickFiles('Checkpoint with the latent weights', ['.pt', '.pth', '.ckpt'], false))[0] ?? null;
  return pick.file || undefined;
}

/** What the plan aims for. undefined: cancelled. */
async function askMode(): Promise<{ targetMap?: number; budget?: number } | undefined> {
  const items = [
    { label: 'Every layer that helps', description: 'best gain per byte first, each step re-scored', mode: 'best' },
    { label: 'Reach a target mAP@.5:.95…', description: 'fewest layers', mode: 'target' },
    { label: 'Within a byte budget…', description: 'best set within N extra bytes', mode: 'budget' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Precision plan: what should the plan aim for?', ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.mode === 'best') return {};
  const v = await vscode.window.showInputBox({
    title: pick.mode === 'target' ? 'Target mAP@.5:.95 (e.g. 0.65 or 65 for 65%)' : 'Extra bytes the plan may add',
    ignoreFocusOut: true,
    validateInput: (t) =>
      pick.mode === 'target' ? (Number(t) > 0 && Number(t) <= 100 ? undefined : 'an mAP in (0, 1] or a percentage') : /^\d+$/.test(t.trim()) ? undefined : 'a whole number of bytes',
  });
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  return pick.mode === 'target' ? { targetMap: n > 1 ? n / 100 : n } : { budget: n };
}

export async function precision(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  const clickedFile = selectedFiles(clicked, all)[0];
  const model = await resolveOnnx(ctx, clickedFile, 'The precision plan');
  if (!model) return;
  const latent = clickedFile && !isOnnx(clickedFile) ? clickedFile : await askLatent(model);
  if (latent === null) return;
  const data = await resolveDataset(model);
  if (!data) return;
  const mode = await askMode();
  if (!mode) return;
  const s = settings();
  const out = besidePath(model, 'precision', fs.existsSync);
  const float = findFloatModel(model, (d) => fs.readdirSync(d));
  const r = await ctx.runner.run(`Precision Plan of ${path.basename(model)}`, 'precision', {
    // "Keep this layer at 8 bits" means the layer runs at 8 bits: its weights and its input activations.
    model,
    data,
    latent,
    float,
    out,
    ...mode,
    bits: 8,
    activations: true,
    engine: s.engine,
    nms: s.nms,
    limit: s.evalLimit || undefined,
  });
  if (!r) return;
  for (const f of r.report.findings) ctx.log.info(`Precision Plan: ${f}`);
  if (r.out) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(r.out));
  ctx.panel.showPrecision(r.report);
}
