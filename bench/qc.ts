// QC training speed: ms per image per QC step on this machine's CPU, QAT Lens (onnxruntime engine,
// src/core/qc/train.ts) against the same QC in PyTorch (tools/example/qc_pytorch.py: same model, loss,
// batches and Adam), run alternately in one sitting, each side in its own process (clean peak memory).
//   npm run bench qc                      the bundled example W4A4, 320x320, batch 16, every core
//   QC_BENCH_MODE=big npm run bench qc    YOLOv5n-sized W4A4 at 320, batch 64, and YOLOv5s-sized at 640,
//                                         batch 16 (tools/fixtures/qc/make_bench_model.py, generated into
//                                         $TMPDIR/qat-lens-bench): ms per image and peak memory, ours only
//   QC_BENCH_STEPS=4 QC_BENCH_WARMUP=3 QC_BENCH_ROUNDS=2 QC_BENCH_THREADS=2
//   QC_BENCH_KEEP=0 (recompute instead of keeping forward values), QC_BENCH_SPIN=1 (onnxruntime thread spinning on)
// (The former TensorFlow.js loop was measured by this bench against the onnxruntime loop before it was
// removed: docs/qc.md, "Speed".)
// Each run: QC_BENCH_WARMUP untimed steps, then QC_BENCH_STEPS timed steps (image loading excluded on both
// sides). Three warm-up steps on both sides: QAT Lens's first step measures memory at micro-batch 2, and
// onnxruntime's first run at the chosen micro-batch grows its arena (about 2x a steady step's CPU
// time); their cost is printed apart (warm-up ms per image).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const PY = '/usr/bin/python3';
const env = (k: string, d: number) => Number(process.env[k] ?? d);

export interface SideResult {
  engine: string;
  msPerImage: number;
  warmupMsPerImage?: number;
  stepMs: number;
  cpuPerWall: number | null;
  peakRssMB: number;
  losses: number[];
  microBatch?: number;
}

/** One side in a child process; it prints one JSON line last. */
function runChild(cmd: string, args: string[]): SideResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return JSON.parse(last) as SideResult;
}

const hasTorch = () => existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const f1 = (x: number | null | undefined) => (x == null ? '-' : x.toFixed(1));

function ours(model: string, data: string, size: number, batch: number, steps: number, threads: number, warmup = 1): SideResult {
  return runChild(process.execPath, ['--import', 'tsx', join(__dirname, 'qcChild.ts'), 'ours', model, data, String(size), String(batch), String(steps), String(threads), String(warmup)]);
}

async function benchExample(): Promise<Record<string, unknown>> {
  const model = 'examples/shapes/w4a4/qdq.onnx',
    data = 'examples/shapes';
  const batch = env('QC_BENCH_BATCH', 16),
    steps = env('QC_BENCH_STEPS', 4),
    warmup = env('QC_BENCH_WARMUP', 3),
    rounds = env('QC_BENCH_ROUNDS', 2),
    threads = env('QC_BENCH_THREADS', cpus().length);
  console.log(
    `example W4A4 QDQ (${model}), 320x320, batch ${batch}, ${threads} threads, ${warmup} untimed + ${steps} timed steps per run, ${rounds} rounds alternating; load ${load()} (${cpus().length} cores)`,
  );
  const torch = hasTorch();
  const dir = join(tmpdir(), 'qat-lens-bench');
  mkdirSync(dir, { recursive: true });
  const prefix = join(dir, `batches_${batch}_${steps + warmup}`);
  if (torch) execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'qcChild.ts'), 'batches', data, '320', String(batch), String(steps + warmup), prefix], { stdio: 'inherit' });
  else console.log('PyTorch side skipped: /usr/bin/python3 has no torch');
  const rows: { round: number; ours: SideResult; torch?: SideResult; load: string }[] = [];
  for (let r = 1; r <= rounds; r++) {
    const a = ours(model, data, 320, batch, steps, threads, warmup);
    const b = torch ? runChild(PY, ['tools/example/qc_pytorch.py', model, prefix, '--threads', String(threads), '--warmup', String(warmup)]) : undefined;
    const l = load();
    rows.push({ round: r, ours: a, torch: b, load: l });
    console.log(
      `round ${r}: QAT Lens ${f1(a.msPerImage)} ms/image (CPU/wall ${a.cpuPerWall?.toFixed(2)}, warm-up ${f1(a.warmupMsPerImage)} ms/image, micro-batch ${a.microBatch}, peak ${a.peakRssMB.toFixed(0)} MB)` +
        (b ? ` | PyTorch ${f1(b.msPerImage)} ms/image (CPU/wall ${b.cpuPerWall?.toFixed(2)}, peak ${b.peakRssMB.toFixed(0)} MB) | ratio ${(a.msPerImage / b.msPerImage).toFixed(2)}` : '') +
        ` | load ${l}`,
    );
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const o = mean(rows.map((r) => r.ours.msPerImage));
  const t = torch ? mean(rows.map((r) => r.torch!.msPerImage)) : undefined;
  const first = rows[0];
  console.log(`loss at step 1: QAT Lens ${first.ours.losses[0].toFixed(6)}${first.torch ? `, PyTorch ${first.torch.losses[0].toFixed(6)}` : ''} (same model and batch)`);
  console.log(
    `mean: QAT Lens ${f1(o)} ms/image, CPU/wall ${mean(rows.map((r) => r.ours.cpuPerWall ?? 0)).toFixed(2)} (target ≥ 1.7 on 2 cores)` +
      (t ? `; PyTorch ${f1(t)} ms/image; ratio ${(o / t).toFixed(2)} (target ≤ 1.0)` : ''),
  );
  return { oursMsPerImage: o, torchMsPerImage: t, ratio: t ? o / t : undefined, rows };
}

async function benchBig(): Promise<Record<string, unknown>> {
  const dir = join(tmpdir(), 'qat-lens-bench');
  mkdirSync(dir, { recursive: true });
  const steps = env('QC_BENCH_STEPS', 2),
    threads = env('QC_BENCH_THREADS', cpus().length);
  const out: Record<string, unknown> = {};
  for (const m of [
    { name: 'yolov5n', size: 320, batch: 64 },
    { name: 'yolov5s', size: 640, batch: 16 },
  ]) {
    const file = join(dir, `${m.name}_w4a4_${m.size}.onnx`);
    if (!existsSync(file)) {
      console.log(`generating ${file} (tools/fixtures/qc/make_bench_model.py --${m.name} --imgsz ${m.size})`);
      execFileSync(PY, ['tools/fixtures/qc/make_bench_model.py', file, `--${m.name}`, '--imgsz', String(m.size)], { stdio: 'inherit' });
    }
    const r = ours(file, 'examples/shapes', m.size, m.batch, steps, threads);
    console.log(
      `${m.name}-sized W4A4 (random weights), ${m.size}x${m.size}, batch ${m.batch}: ${f1(r.msPerImage)} ms/image (${(r.stepMs / 1000).toFixed(1)} s per step), CPU/wall ${r.cpuPerWall?.toFixed(2)}, micro-batch ${r.microBatch}, peak memory ${r.peakRssMB.toFixed(0)} MB; load ${load()}`,
    );
    out[m.name] = r;
  }
  return out;
}

export async function benchQC(): Promise<Record<string, unknown>> {
  return process.env.QC_BENCH_MODE === 'big' ? benchBig() : benchExample();
}
