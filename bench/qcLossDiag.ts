// Diagnostic for QC runs (not a test): YOLOv5's detection loss of models on the calib and val
// splits of the bundled example, to tell over-fitting to the calibration images (calib loss down,
// val loss up) from a loss that falls without mAP following (both down).
//   node --import tsx bench/qcLossDiag.ts MODEL.onnx [MODEL.onnx ...]
import { labelledImages } from '../src/core/data/dataset';
import { indexGraph } from '../src/core/onnx/graph';
import { loadModel } from '../src/core/onnx/proto';
import { findHeads, findQuantLayers } from '../src/core/qc/heads';
import { lossFor } from '../src/core/qc/loss';
import { calibSource } from '../src/core/qc/train';
import { createGradEngine } from '../src/core/train/engine';

async function meanLoss(file: string, split: string): Promise<number> {
  const model = loadModel(file);
  const layers = findQuantLayers(indexGraph(model.graph!));
  const heads = await findHeads(model, file, [320, 320]);
  const engine = await createGradEngine(model, file, { engine: 'cpu', layers, heads: heads.outputs });
  const loss = lossFor('yolov5', { anchors: heads.anchors, strides: heads.strides, nc: heads.nc, imgsz: 320 });
  const gamma = layers.map((l) => new Float32Array(l.channels).fill(1)),
    beta = layers.map((l) => new Float32Array(l.channels));
  const { images } = await labelledImages('examples/shapes', split);
  const src = calibSource(images, [320, 320]);
  const batch = 8;
  let sum = 0,
    n = 0;
  for (let i = 0; i + batch <= src.count; i += batch) {
    const b = await src.batch(Array.from({ length: batch }, (_, k) => i + k));
    const h = await engine.forward(b.images, batch, gamma, beta);
    const lv = loss.compute(
      h.map((data, k) => {
        const ny = 320 / heads.strides[k];
        return { data, shape: [batch, data.length / (batch * ny * ny), ny, ny] };
      }),
      b.targets,
    );
    sum += lv.loss / batch; // the loss is × batch size
    n++;
  }
  await engine.dispose();
  return sum / n;
}

async function main(): Promise<void> {
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
