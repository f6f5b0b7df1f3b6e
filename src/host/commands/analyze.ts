// "Analyze Oscillation": one or several checkpoints (a sequence; the job orders them by epoch).
import { pickFiles } from '../ask';
import { type HostContext, settings } from '../context';
import { CHECKPOINT_EXTS, isCheckpoint, selectedFiles } from '../targets';

export async function analyze(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  let files = selectedFiles(clicked, all).filter(isCheckpoint);
  if (!files.length) files = await pickFiles('Checkpoints to analyze (several = one training run)', CHECKPOINT_EXTS, true);
  if (!files.length) return;
  const s = settings();
  const title = files.length > 1 ? `Analyze ${files.length} checkpoints` : 'Analyze Oscillation';
  const r = await ctx.runner.run(title, 'analyze', {
    files,
    delta: s.delta,
    bits: s.bits,
    flagConcentration: s.flagConcentration,
    flagMaxPValue: s.flagMaxPValue,
  });
  if (!r) return;
  ctx.lastAnalyzed = { files };
  ctx.log.info(`Analyze: ${r.report.summary.layerCount} layers, ${r.report.summary.flaggedCount} flagged`);
  for (const n of r.report.summary.notes) ctx.log.info(`Analyze note: ${n}`);
  ctx.panel.showAnalysis(r.report, 'none needed (weights only)');
}
