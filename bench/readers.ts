// Reader throughput: a YOLOv7-sized (37.7M parameter) FP32 ONNX and FP16 .pt, generated into a temp
// dir by tools/fixtures/make_bench_models.py (PyTorch + onnx), read with readCheckpoint, against
// fs.readFile of the same file in the same run (the ratio is the figure: 1.0 = disk/page-cache speed).
import { execFileSync } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '../src/core/readers/index';

const PYTHON = process.env.QAT_LENS_PYTHON ?? '/usr/bin/python3';

/** Median wall time and median CPU time (user + system) of `runs` calls, in seconds. CPU time is
 *  the fairer figure on a machine shared with other jobs. */
async function time(fn: () => Promise<unknown>, runs = 3): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [],
    cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(runs / 2)];
  return { wall: med(wall), cpu: med(cpu) };
}

export interface ReaderBench {
  file: string;
  mb: number;
  layers: number;
  /** Wall-clock MB/s of fs.readFile and of readCheckpoint, and their ratio (1 = as fast as reading the bytes). */
  readFileMBs: number;
  readerMBs: number;
  ratio: number;
  /** The same per CPU-second (user + system). */
  readFileCpuMBs: number;
  readerCpuMBs: number;
}

export async function benchReaders(): Promise<ReaderBench[]> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'qat-bench-readers-'));
  const results: ReaderBench[] = [];
  try {
    try {
      execFileSync(PYTHON, [join(__dirname, '..', 'tools', 'fixtures', 'make_bench_models.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      console.log(`readers bench skipped: generating the models needs ${PYTHON} with torch and onnx (${(err as Error).message.split('\n')[0]})`);
      return results;
    }
    for (const [name, opts] of [
      ['bench_fp32.onnx', {}],
      ['bench_fp16.pt', { bits: 4 }],
    ] as const) {
      const file = join(dir, name);
      const mb = statSync(file).size / 1e6;
      await fs.readFile(file); // warm the page cache for both measurements
      const tRead = await time(() => fs.readFile(file));
      let layers = 0;
      const tReader = await time(async () => {
        const ck = await readCheckpoint(file, opts);
        // Touch every latent weight so lazily decoded tensors are counted.
        let s = 0;
        for (const l of ck.variants[0].layers) s += l.weight.latent![l.weight.latent!.length - 1];
        layers = ck.variants[0].layers.length;
        return s;
      });
      const r: ReaderBench = {
        file: name,
        mb,
        layers,
        readFileMBs: mb / tRead.wall,
        readerMBs: mb / tReader.wall,
        ratio: tRead.wall / tReader.wall,
        readFileCpuMBs: mb / tRead.cpu,
        readerCpuMBs: mb / tReader.cpu,
      };
      results.push(r);
      console.log(
        `readers: ${name} ${mb.toFixed(1)} MB, ${layers} layers: readCheckpoint ${r.readerMBs.toFixed(0)} MB/s, fs.readFile ${r.readFileMBs.toFixed(0)} MB/s (ratio ${r.ratio.toFixed(2)}); per CPU-second ${r.readerCpuMBs.toFixed(0)} vs ${r.readFileCpuMBs.toFixed(0)} MB/s`,
      );
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) void benchReaders();
