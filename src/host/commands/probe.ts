// "Soft-Rounding Probe": mAP with near-threshold weights left unrounded, for each δ in settings.
import * as path from 'node:path';
import { resolveDataset, resolveOnnx } from '../ask';
import { probeComparison } from '../comparison';
import { type HostContext, settings } from '../context';
import { selectedFiles } from '../targets';

export async function probe(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  const model = await resolveOnnx(ctx, selectedFiles(clicked, all)[0], 'the soft-rounding probe');
  if (!model) return;
  const data = await resolveDataset(model);
  if (!data) return;
  const s = settings();
  const r = await ctx.runner.run(`Soft-Rounding Probe of ${path.basename(model)}`, 'probe', {
    model,
    data,
    deltas: s.probeDeltas,
    perLayer: false,
    engine: s.engine,
    limit: s.evalLimit || undefined,
  });
  if (!r) return;
  ctx.panel.showComparison(probeComparison(model, data, r));
}
