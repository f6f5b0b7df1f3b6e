// "Compare mAP": several ONNX models (e.g. float, QAT, QC) on one data set, side by side.
// Each model is its own job (queued in order), so one failure does not lose the others.
import * as path from 'node:path';
import { pickFiles, resolveDataset } from '../ask';
import { mapComparison } from '../comparison';
import { type HostContext, settings } from '../context';
import { isOnnx, selectedFiles } from '../targets';

export async function compareMap(ctx: HostContext, clicked?: unknown, all?: unknown): Promise<void> {
  let models = selectedFiles(clicked, all).filter(isOnnx);
  if (models.length < 2) {
    const picked = await pickFiles('ONNX models to compare (e.g. float, QAT and QC)', ['.onnx'], true);
    models = [...new Set([...models, ...picked])];
  }
  if (!models.length) return;
  const data = await resolveDataset(models[0]!);
  if (!data) return;
  const s = settings();
  const runs = await Promise.all(
    models.map((model) =>
      ctx.runner.run(`mAP of ${path.basename(model)}`, 'map', { model, data, engine: s.engine, limit: s.evalLimit || undefined }).then((r) => ({ model, r })),
    ),
  );
  const done = runs.filter((x): x is { model: string; r: NonNullable<typeof x.r> } => x.r !== undefined);
  if (done.length) ctx.panel.showComparison(mapComparison(data, done));
}
