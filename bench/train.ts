// The QC gradient engine (src/core/train) on this machine's CPU: forward and backward ms per image
// on the bundled example (W4A4, 320x320) at batch 16, onnxruntime's 'all' optimization (NCHWc conv
// layout) against 'extended' (plain layout) in the same run, alternating; and recompute vs keep
// (keep.ts): the keep forward (it also outputs the values the gradient graph reads, copied out of the
// session) and the gradient-only backward, against the forward and the recomputing backward.
//   npm run bench train          TRAIN_BENCH_BATCH=16 TRAIN_BENCH_ROUNDS=3
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadModel, onnx } from '../src/core/onnx/proto';
import { buildTrainGraphs } from '../src/core/train/engine';
import { splitKeep } from '../src/core/train/keep';
import { uniform } from '../test/helpers/opGrad';

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

export async function benchTrain(): Promise<void> {
  const B = Number(process.env.TRAIN_BENCH_BATCH ?? 16);
  const rounds = Number(process.env.TRAIN_BENCH_ROUNDS ?? 3);
  const ref = JSON.parse(readFileSync('test/fixtures/train/vjp_reference.json', 'utf8')).example.spec as { file: string; layers: never[]; heads: string[]; headShapes: number[][] };
  const t0 = performance.now();
  const tg = await buildTrainGraphs(loadModel(ref.file), ref.file, ref);
  console.log(`graphs built in ${(performance.now() - t0).toFixed(0)} ms: forward ${tg.forward.model.graph!.node!.length} nodes, backward ${tg.backward.model.graph!.node!.length}`);

  const keep = splitKeep(tg.forward, tg.backward);
  const savedNames = keep.saved.map((v) => v.name).filter((n) => !tg.forward.heads.includes(n));

  const threads = cpus().length;
  // The engine's settings (train/engine.ts), memory pattern off included.
  const opts = (level: 'all' | 'extended'): ort.InferenceSession.SessionOptions => ({
    graphOptimizationLevel: level,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableMemPattern: false,
  });
  const enc = (m: onnx.ModelProto) => onnx.ModelProto.encode(m).finish();
  const sessions = {
    'forward (all)': await ort.InferenceSession.create(enc(tg.forward.model), opts('all')),
    'backward (all)': await ort.InferenceSession.create(enc(tg.backward.model), opts('all')),
    'forward (extended)': await ort.InferenceSession.create(enc(tg.forward.model), opts('extended')),
    'backward (extended)': await ort.InferenceSession.create(enc(tg.backward.model), opts('extended')),
    'keep forward (all)': await ort.InferenceSession.create(enc(keep.forward), opts('all')),
    'gradient only (all)': await ort.InferenceSession.create(enc(keep.backward), opts('all')),
  };
  const [h, w] = [320, 320];
  const feeds: Record<string, ort.Tensor> = { [tg.forward.input]: new ort.Tensor('float32', uniform(B * 3 * h * w, 1, 0, 1), [B, 3, h, w]) };
  tg.forward.sites.forEach((s, i) => {
    feeds[s.gamma] = new ort.Tensor('float32', uniform(s.layer.channels, 100 + i, 0.9, 1.1), s.paramShape);
    feeds[s.beta] = new ort.Tensor('float32', uniform(s.layer.channels, 900 + i, -0.02, 0.02), s.paramShape);
  });
  const bfeeds = { ...feeds };
  tg.forward.heads.forEach((name, i) => {
    const dims = [B, ...tg.shapes.get(name)!.slice(1)];
    bfeeds[tg.backward.dHeads[i]] = new ort.Tensor(
      'float32',
      uniform(
        dims.reduce((a, c) => a * c, 1),
        5000 + i,
      ),
      dims,
    );
  });
  const times: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  let kept: Record<string, ort.Tensor> = {},
    keptBytes = 0;
  const run = async (name: string, s: ort.InferenceSession) => {
    if (name.startsWith('backward')) return s.run(bfeeds);
    if (name.startsWith('keep')) {
      kept = {}; // as the engine: the previous values are dropped before the run
      kept = await s.run(feeds, [...tg.forward.heads, ...savedNames]);
      keptBytes = savedNames.reduce((n, v) => n + (kept[v].data as Float32Array).byteLength, 0);
      return kept;
    }
    if (name.startsWith('gradient')) {
      const f: Record<string, ort.Tensor> = {};
      for (const n of s.inputNames) f[n] = kept[n] ?? bfeeds[n];
      return s.run(f);
    }
    return s.run(feeds);
  };
  for (let r = 0; r <= rounds; r++) {
    for (const [name, s] of Object.entries(sessions)) {
      const u0 = process.cpuUsage(),
        t = performance.now();
      await run(name, s);
      const wall = performance.now() - t,
        u = process.cpuUsage(u0);
      if (r === 0) continue; // warm-up
      (times[name] ??= []).push(wall / B);
      (cpu[name] ??= []).push((u.user + u.system) / 1000 / wall);
    }
  }
  for (const s of Object.values(sessions)) await s.release();
  console.log(
    `batch ${B}, 320x320, ${threads} threads, median of ${rounds} alternating rounds; load average ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  for (const [name, t] of Object.entries(times)) console.log(`  ${name.padEnd(34)} ${median(t).toFixed(1)} ms/image  (CPU/wall ${median(cpu[name]).toFixed(2)})`);
  const fa = median(times['forward (all)']),
    ba = median(times['backward (all)']);
  const fe = median(times['forward (extended)']),
    be = median(times['backward (extended)']);
  console.log(`  step (forward + backward): all ${(fa + ba).toFixed(1)} ms/image, extended ${(fe + be).toFixed(1)} ms/image, ratio extended/all ${((fe + be) / (fa + ba)).toFixed(2)}`);
  const kf = median(times['keep forward (all)']),
    kg = median(times['gradient only (all)']);
  console.log(
    `  keep vs recompute: keep forward + gradient ${(kf + kg).toFixed(1)} ms/image against forward + recomputing backward ${(fa + ba).toFixed(1)} (ratio ${((kf + kg) / (fa + ba)).toFixed(2)}); ${keep.saved.length} values kept, ${(keptBytes / 2 ** 20).toFixed(0)} MiB at batch ${B}, copied out of the forward session`,
  );
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
