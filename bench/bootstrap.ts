// Benchmark: the paired bootstrap on the bundled example (float and W4A4 QAT detections of the 200
// val images, onnxruntime CPU), 1000 resamples of both models, against its baseline measured in
// the same run, alternating: one full COCO evaluation (match + accumulate + summary) of both.
// Run alone: node --import tsx bench/bootstrap.ts
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../src/core/data/dataset';
import { bootstrapMaps, resampleCounts } from '../src/core/eval/bootstrap';
import { evaluateCoco } from '../src/core/eval/cocoeval';
import { detectDataset } from '../src/core/infer/pipeline';

export async function benchBootstrap(resamples = 1000, rounds = 3): Promise<void> {
  const dir = join(__dirname, '..', 'examples', 'shapes');
  const ds = await openDataset(join(dir, 'data.yaml'), { split: 'val' });
  const runs: Awaited<ReturnType<typeof detectDataset>>['run'][] = [];
  for (const m of ['float.onnx', 'w4a4/qdq.onnx']) runs.push((await detectDataset(join(dir, m), ds, { engine: 'cpu' })).run);
  console.log(`example val: ${ds.images.length} images, ${runs.map((r) => r.detections.length).join(' / ')} detections (float / W4A4)`);
  const evalBoth = () => runs.map((r) => evaluateCoco(ds.gt, r.detections, { perImage: true }));
  const evs = evalBoth();
  const counts = resampleCounts(ds.images.length, resamples, 1);
  const tb: number[] = [],
    te: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    bootstrapMaps(
      evs.map((e) => e.perImage!),
      counts,
    );
    tb.push(performance.now() - t);
    t = performance.now();
    evalBoth();
    te.push(performance.now() - t);
  }
  const best = (x: number[]) => Math.min(...x);
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 cores)`,
  );
  console.log(`bootstrap, ${resamples} resamples × 2 models: best ${(best(tb) / 1000).toFixed(2)} s (runs ${tb.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
  console.log(`baseline, one full evaluation of both models: best ${best(te).toFixed(0)} ms (runs ${te.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`ratio: ${resamples} resamples cost ${(best(tb) / best(te)).toFixed(1)} full evaluations (${((best(tb) / resamples / 2) * 1000).toFixed(0)} µs per model and resample)`);
}

if (require.main === module)
  benchBootstrap().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
