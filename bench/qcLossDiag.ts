// Diagnostic for QC runs (not a test): YOLOv5's detection loss of models on the calib and val
// splits of the bundled example, to tell over-fitting to the calibration images (calib loss down,
// val loss up) from a loss that falls without mAP following (both down).
//   node --import tsx bench/qcLossDiag.ts MODEL.onnx [MODEL.onnx ...]
import * as tf from '@tensorflow/tfjs-core';
import { labelledImages } from '../src/core/data/dataset';
import { selectBackend } from '../src/core/qc/backend';
import { findHeads } from '../src/core/qc/heads';
import { TfGraph } from '../src/core/qc/tfGraph';
import { calibSource, qcLoss } from '../src/core/qc/train';

async function meanLoss(model: string, split: string): Promise<number> {
  const g = TfGraph.load(model);
  const heads = await findHeads(g, [320, 320]);
  const { images } = await labelledImages('examples/shapes', split);
  const src = calibSource(images, [320, 320]);
  const batch = 8;
  let sum = 0, n = 0;
  for (let i = 0; i + batch <= src.count; i += batch) {
    const b = await src.batch(Array.from({ length: batch }, (_, k) => i + k));
    const l = tf.tidy(() => qcLoss(g, heads, new Map(), b, batch, [320, 320]));
    sum += (await l.data())[0] / batch; // the loss is × batch size
    l.dispose();
    n++;
  }
  g.dispose();
  return sum / n;
}

async function main(): Promise<void> {
  await selectBackend('cpu');
  for (const m of process.argv.slice(2)) {
    const calib = await meanLoss(m, 'calib');
    const val = await meanLoss(m, 'val');
    console.log(`${m}: loss per image, calib ${calib.toFixed(4)}, val ${val.toFixed(4)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
