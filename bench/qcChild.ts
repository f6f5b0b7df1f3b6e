// One side of bench/qc.ts in its own process (so each has its own peak memory); prints one JSON line.
//   qcChild.ts ours MODEL DATA SIZE BATCH STEPS THREADS [WARMUP]   QC on the onnxruntime engine: WARMUP (1)
//                                                            untimed steps, then STEPS timed ones
//   qcChild.ts batches DATA SIZE BATCH STEPS PREFIX          the run's batches for the PyTorch side
// Both sides draw the first 256 calibration images with the same seeded schedule (train.ts batchSchedule).
import { labelledImages } from '../src/core/data/dataset';
import { indexGraph } from '../src/core/onnx/graph';
import { loadModel } from '../src/core/onnx/proto';
import { findHeads, findQuantLayers } from '../src/core/qc/heads';
import { lossFor } from '../src/core/qc/loss';
import { MB } from '../src/core/qc/memory';
import { batchSchedule, calibSource, type QcFit, trainQC } from '../src/core/qc/train';
import { createGradEngine } from '../src/core/train/engine';
import { writeBatches } from './qcBatches';

const CALIB = 256;

function summary(engine: string, fit: QcFit, batch: number, warmup: number): Record<string, unknown> {
  const wall = fit.stepMs.slice(warmup).reduce((s, x) => s + x, 0),
    cpu = fit.stepCpuMs.slice(warmup).reduce((s, x) => s + x, 0);
  const timed = fit.stepMs.length - warmup;
  return {
    engine,
    msPerImage: wall / (timed * batch),
    warmupMsPerImage: fit.stepMs.slice(0, warmup).reduce((s, x) => s + x, 0) / (warmup * batch),
    stepMs: wall / timed,
    cpuPerWall: cpu / wall,
    peakRssMB: fit.peakRssBytes / MB,
    losses: fit.lossCurve,
    microBatch: fit.microBatch,
    // Whole run (warm-up included), ms per image: where a step's time goes.
    parts: Object.fromEntries((['forwardMs', 'lossMs', 'backwardMs', 'optimizerMs'] as const).map((k) => [k, fit.timings[k] / (fit.stepMs.length * batch)])),
  };
}

async function main(): Promise<void> {
  const [mode, ...a] = process.argv.slice(2);
  if (mode === 'batches') {
    const [data, size, batch, steps, prefix] = a;
    const { images } = await labelledImages(data, 'calib', { limit: CALIB });
    await writeBatches(calibSource(images, [+size, +size]), +batch, +steps, prefix);
    return;
  }
  const [file, data, sizeS, batchS, stepsS, threadsS, warmupS = '1'] = a;
  const size: [number, number] = [+sizeS, +sizeS],
    batch = +batchS,
    steps = +stepsS,
    warmup = +warmupS;
  const model = loadModel(file);
  const layers = findQuantLayers(indexGraph(model.graph!));
  const heads = await findHeads(model, file, size);
  const { images } = await labelledImages(data, 'calib', { limit: CALIB });
  const src = calibSource(images, size);
  if (mode === 'ours') {
    // QC_BENCH_KEEP=0: the recompute path (A/B against keeping the forward's values); QC_BENCH_SPIN=1:
    // onnxruntime's thread spinning on (A/B against the default, off); QC_BENCH_SHARDS=1: one engine
    // on this thread (A/B against the default, one shard per thread).
    const engine = await createGradEngine(model, file, {
      engine: 'cpu',
      layers,
      heads: heads.outputs,
      threads: +threadsS,
      imgsz: size,
      keep: process.env.QC_BENCH_KEEP !== '0',
      spin: process.env.QC_BENCH_SPIN === '1',
      ...(process.env.QC_BENCH_SHARDS ? { shards: +process.env.QC_BENCH_SHARDS } : {}),
    });
    const loss = lossFor('yolov5', { anchors: heads.anchors, strides: heads.strides, nc: heads.nc, imgsz: size[0] });
    // The run's images decoded (and cached by calibSource) before it starts, as the PyTorch side reads
    // its batches ready-made: a JPEG decode between steps left the next step ~8% slower (sharp's
    // allocations; scratch runs of 11 steps, 2 cores), and loading is not what this bench measures.
    const next = batchSchedule(src.count, batch);
    for (let s = 0; s < steps + warmup; s++) await src.batch(next());
    const fit = await trainQC({ engine, loss, layers, heads }, src, { steps: steps + warmup, lr: 1e-3, batch });
    console.log(JSON.stringify(summary(`onnxruntime ${engine.device}`, fit, batch, warmup)));
    await engine.dispose();
  } else throw new Error(`unknown mode ${mode}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
