// Benchmark: oscillation analysis of a 37M-parameter model already in memory (synthetic layers
// with YOLOv7-like conv shapes, 4-bit per-channel), against numpy computing the same statistics
// on the same tensors (/usr/bin/python3, when numpy is there).
// Run alone: node --import tsx bench/analysis.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCheckpoints } from '../src/core/analysis/analyzeCheckpoints';
import type { Checkpoint, QuantizedLayer } from '../src/core/model';

/** Conv shapes in the spirit of YOLOv7 (ELAN blocks of 3x3 and 1x1 convs, three detection convs), ~37M weights. */
function yolov7LikeShapes(target = 37_000_000): number[][] {
  const shapes: number[][] = [
    [32, 3, 3, 3],
    [64, 32, 3, 3],
    [64, 64, 3, 3],
  ];
  for (const c of [64, 128, 256, 512]) {
    // ELAN: two 1x1 splits, four 3x3, a 1x1 merge, then a downsampling conv
    shapes.push([c, 2 * c, 1, 1], [c, 2 * c, 1, 1], [c, c, 3, 3], [c, c, 3, 3], [c, c, 3, 3], [c, c, 3, 3], [4 * c, 4 * c, 1, 1], [2 * c, 4 * c, 1, 1], [2 * c, 2 * c, 3, 3]);
  }
  shapes.push([255, 256, 1, 1], [255, 512, 1, 1], [255, 1024, 1, 1]);
  let total = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  // neck convs (256 -> 256, 3x3) up to the parameter count
  while (total < target) {
    shapes.splice(shapes.length - 3, 0, [256, 256, 3, 3]);
    total += 256 * 256 * 9;
  }
  return shapes;
}

function makeModel(): { ck: Checkpoint; count: number } {
  let seed = 12345;
  const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296;
  const layers: QuantizedLayer[] = yolov7LikeShapes().map((shape, li) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const latent = new Float32Array(n);
    for (let i = 0; i < n; i++) latent[i] = (rand() + rand() + rand() - 1.5) * 0.08; // bell-shaped
    const scale = new Float64Array(shape[0]);
    for (let c = 0; c < shape[0]; c++) scale[c] = 0.01 + 0.01 * rand();
    return {
      name: `model.${li}.conv`,
      op: 'Conv',
      weight: { shape, latent, storedDtype: 'float32' },
      weightQuantizer: { scale, zeroPoint: new Float64Array(shape[0]), axis: 0, qmin: -8, qmax: 7, bits: 4, bitsSource: 'range', kind: 'bench' },
    };
  });
  const count = layers.reduce((a, l) => a + l.weight.latent!.length, 0);
  return { ck: { file: 'bench-yolov7-like.pt', format: 'pytorch', notes: [], variants: [{ variant: 'model', layers, activations: [] }] }, count };
}

const NUMPY_SCRIPT = String.raw`
import json, sys, time
import numpy as np
meta = json.load(open(sys.argv[1]))
w_all = np.fromfile(sys.argv[2], dtype=np.float32)
delta = meta['delta']
best = None
for rep in range(2):
    t0 = time.perf_counter(); off = 0; out = []
    for L in meta['layers']:
        n = int(np.prod(L['shape'])); w = w_all[off:off + n].reshape(L['shape'][0], -1); off += n
        s = np.asarray(L['scale'])[:, None]
        u = w.astype(np.float64) / s
        clipped = (u < -8.5) | (u > 7.5); inr = ~clipped
        f = u - np.floor(u); d = np.abs(f - 0.5); near = inr & (d < delta)
        nin = inr.sum(1); nnear = near.sum(1)
        hist = np.bincount(np.minimum((f[inr] * 20).astype(np.int64), 19), minlength=20)
        out.append((clipped.mean(), nnear.sum() / nin.sum(), d[inr].mean(), hist, nnear / np.maximum(nin, 1)))
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(json.dumps({'seconds': best, 'nt0': float(out[0][1]), 'md0': float(out[0][2]), 'numpy': np.__version__}))
`;

export interface AnalysisBench {
  weights: number;
  layers: number;
  seconds: number;
  weightsPerSecond: number;
  numpySeconds: number | null;
  /** numpy time / TypeScript time (> 1: the engine is faster). */
  speedupVsNumpy: number | null;
  /** Three checkpoints of the same model as a sequence. */
  sequenceSeconds: number | null;
}

export async function benchAnalysis(log: (s: string) => void = console.log): Promise<AnalysisBench> {
  const { ck, count } = makeModel();
  const layers = ck.variants[0].layers.length;
  analyzeCheckpoints([ck]); // warm-up (JIT)
  let best = Infinity;
  let report;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    report = analyzeCheckpoints([ck]);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  const res: AnalysisBench = { weights: count, layers, seconds: best, weightsPerSecond: count / best, numpySeconds: null, speedupVsNumpy: null, sequenceSeconds: null };
  log(`analysis: ${(count / 1e6).toFixed(1)}M weights in ${layers} layers (4-bit per-channel): ${best.toFixed(3)} s, ${(res.weightsPerSecond / 1e6).toFixed(1)}M weights/s (best of 3)`);

  // A run of 3 checkpoints (same latent weights, scales drifting 0.5% per epoch): adds the integer
  // states, flips and reversals of every layer.
  const run = [0, 1, 2].map((e) => ({
    ...ck,
    file: `epoch_${e}.pt`,
    epoch: e,
    variants: [
      {
        variant: 'model',
        activations: [],
        layers: ck.variants[0].layers.map((l) => ({ ...l, weightQuantizer: { ...l.weightQuantizer, scale: l.weightQuantizer.scale.map((x) => x * (1 + 0.005 * e)) } })),
      },
    ],
  }));
  const t1 = performance.now();
  const seqReport = analyzeCheckpoints(run);
  res.sequenceSeconds = (performance.now() - t1) / 1000;
  log(
    `sequence of 3 checkpoints (stats of each, flips, reversals, scale movement): ${res.sequenceSeconds.toFixed(3)} s, ${((3 * count) / res.sequenceSeconds / 1e6).toFixed(1)}M weights/s; mean flip fraction ${(seqReport.sequence!.layers.reduce((a, l) => a + l.flipFractions[0], 0) / layers).toFixed(4)}`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'qat-lens-bench-'));
  try {
    const all = new Float32Array(count);
    let off = 0;
    for (const l of ck.variants[0].layers) {
      all.set(l.weight.latent!, off);
      off += l.weight.latent!.length;
    }
    writeFileSync(join(dir, 'w.bin'), all);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ delta: 0.05, layers: ck.variants[0].layers.map((l) => ({ shape: l.weight.shape, scale: Array.from(l.weightQuantizer.scale) })) }));
    writeFileSync(join(dir, 'bench.py'), NUMPY_SCRIPT);
    const py = spawnSync('/usr/bin/python3', [join(dir, 'bench.py'), join(dir, 'meta.json'), join(dir, 'w.bin')], { encoding: 'utf8', timeout: 300_000 });
    if (py.status !== 0) {
      log(`numpy comparison skipped: ${(py.stderr || py.error?.message || '').trim().split('\n').pop()}`);
    } else {
      const r = JSON.parse(py.stdout.trim().split('\n').pop()!);
      const l0 = report!.layers[0];
      if (Math.abs(r.nt0 - l0.nearThresholdFraction!) > 1e-12 || Math.abs(r.md0 - l0.meanDistance!) > 1e-12) throw new Error('numpy and the engine disagree on the first layer');
      res.numpySeconds = r.seconds;
      res.speedupVsNumpy = r.seconds / best;
      log(`numpy ${r.numpy} (same statistics, same tensors): ${r.seconds.toFixed(3)} s, ${(count / r.seconds / 1e6).toFixed(1)}M weights/s; engine is ${res.speedupVsNumpy.toFixed(2)}x numpy's speed`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

if (typeof require !== 'undefined' && require.main === module) benchAnalysis().catch((e) => (console.error(e), process.exit(1)));
