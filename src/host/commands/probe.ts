// "Soft-Rounding Probe": mAP with near-threshold weights left unrounded, for each δ in settings.
// The δ values are remembered per model, so a later QC comparison shows them beside QC.
import * as path from 'node:path';
import { resolveDataset, resolveOnnx } from '../ask';
import { type HostContext, rememberProbe, settings } from '../context';
import { isOnnx, selectedFiles } from '../targets';

export async function probe(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  const clickedFile = selectedFiles(clicked, all)[0];
  const model = await resolveOnnx(ctx, clickedFile, 'The soft-rounding probe');
  if (!model) return;
  const data = await resolveDataset(model);
  if (!data) return;
  const s = settings();
  const r = await ctx.runner.run(`Soft-Rounding Probe of ${path.basename(model)}`, 'probe', {
    model,
    data,
    deltas: s.probeDeltas,
    perLayer: false,
    // Where a checkpoint was clicked, its latent weights drive the probe (the ONNX may hold integers only).
    pt: clickedFile && !isOnnx(clickedFile) ? clickedFile : undefined,
    engine: s.engine,
    nms: s.nms,
    anchorsSetting: s.anchors || undefined,
    limit: s.evalLimit || undefined,
  });
  if (!r) return;
  await rememberProbe(ctx, model, s.probeDeltas);
  ctx.panel.showComparison({ ...r.comparison, entries: r.comparison.entries });
}
