// "Compare mAP": the QAT model against its float export, soft-round δ variants and the latest QC
// output, all on the same images (one compare job).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pickFiles, resolveDataset, resolveOnnx } from '../ask';
import { toComparison } from '../../core/compare/view';
import { type HostContext, settings } from '../context';
import { findCorrected, findFloatModel } from '../models';
import { isOnnx, selectedFiles } from '../targets';

export async function compareMap(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  const sel = selectedFiles(clicked, all);
  const qat = sel.length ? await resolveOnnx(ctx, sel[0], 'Compare mAP') : (await pickFiles('The QAT model (QDQ ONNX) to compare', ['.onnx'], false))[0];
  if (!qat) return;
  const data = await resolveDataset(qat);
  if (!data) return;
  const ls = (d: string): string[] => fs.readdirSync(d);
  const others = sel.filter((f) => f !== qat && isOnnx(f));
  const float = others.find((f) => /float|fp32|fp16/i.test(path.basename(f))) ?? findFloatModel(qat, ls);
  const corrected = others.find((f) => /\.qc(-\d+)?\.onnx$/i.test(f)) ?? findCorrected(qat, ls);
  const s = settings();
  const r = await ctx.runner.run(`Compare mAP of ${path.basename(qat)}`, 'compare', {
    data,
    qat,
    float,
    corrected,
    latent: sel[0] && !isOnnx(sel[0]) ? sel[0] : undefined,
    deltas: s.probeDeltas,
    engine: s.engine,
    nms: s.nms,
    anchorsSetting: s.anchors || undefined,
    limit: s.evalLimit || undefined,
  });
  if (r) ctx.panel.showComparison(toComparison(r, 'Compare mAP', { variantsAsked: true }));
}
