// The fuzz harness: makes cases (seeded), runs them in a worker process with a 10 s limit per case,
// samples some through the real CLI (exit code, lines, stack traces, peak memory), and saves every
// failing case under test/fixtures/fuzz/, where test/fuzz/regressions.test.ts replays it.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Outcome } from './check';
import { Rng } from './mutate';
import { type CaseSpec, TARGETS, type TargetName, makeCase } from './targets';

const ROOT = join(__dirname, '..', '..');
export const FAILURES = join(ROOT, 'test', 'fixtures', 'fuzz');
const CASE_LIMIT_MS = 10_000;
const MEMORY_LIMIT_KB = 2 * 1024 * 1024;

export interface FuzzOptions {
  seed: number;
  /** Stop after this many cases... */
  n?: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds?: number;
  /** Run every k-th case through the built CLI too (0: never). */
  cliEvery?: number;
  save?: boolean;
  targets?: TargetName[];
  log?: (line: string) => void;
}

export interface FuzzStats {
  seed: number;
  cases: number;
  perTarget: Record<string, { cases: number; accepted: number; refused: number }>;
  cliRuns: number;
  failures: { target: string; index: number; how: string; violations: string[]; saved?: string }[];
  hangs: number;
  crashes: number;
  outsideReads: number;
  slowestMs: number;
  peakRssMb: number;
  seconds: number;
  loadavg: { start: number[]; end: number[] };
}

/** The generator seed of case `i` of a run: runs with the same seed make the same cases. */
export const caseSeed = (seed: number, i: number) => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;

class Worker {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private start(): Promise<void> {
    this.child = fork(join(__dirname, 'worker.ts'), [], { execArgv: ['--import', 'tsx', '--max-old-space-size=2048'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr?.resume();
    return new Promise((res, rej) => {
      this.child!.once('message', () => res());
      this.child!.once('exit', (c) => rej(new Error(`fuzz worker exited (${c}) before it was ready`)));
    });
  }
  async run(dir: string, spec: CaseSpec, id: number): Promise<{ outcome: Outcome; maxRssKb: number; died?: string }> {
    if (!this.child || this.child.exitCode !== null || this.child.killed) this.ready = this.start();
    await this.ready;
    const child = this.child!;
    return new Promise((res) => {
      const timer = setTimeout(() => {
        done({ outcome: { ok: false, violations: [`hang: no result after ${CASE_LIMIT_MS / 1000 + 5} s`], ms: CASE_LIMIT_MS + 5000 }, maxRssKb: 0, died: 'hang' });
        child.kill('SIGKILL');
      }, CASE_LIMIT_MS + 5000);
      const onMsg = (m: { id?: number; outcome: Outcome; maxRssKb: number }) => {
        if (m.id === id) done(m);
      };
      const onExit = (code: number | null, sig: string | null) => done({ outcome: { ok: false, violations: [`crash: the process died (${sig ?? code})`], ms: 0 }, maxRssKb: 0, died: 'crash' });
      const done = (r: { outcome: Outcome; maxRssKb: number; died?: string }) => {
        clearTimeout(timer);
        child.off('message', onMsg);
        child.off('exit', onExit);
        res(r);
      };
      child.on('message', onMsg);
      child.once('exit', onExit);
      child.send({ dir, spec, id });
    });
  }
  stop(): void {
    this.child?.kill('SIGKILL');
  }
}

/** The built CLI on a model case: exit 0/1/2, at most 3 lines, no stack, peak memory, nothing written on refusal. */
function cliCheck(dir: string, spec: CaseSpec): string[] {
  const v: string[] = [];
  const modelDir = join(dir, 'model');
  if (!existsSync(modelDir)) return v;
  const file = readdirSync(modelDir).find((n) => /^model\./.test(n));
  if (!file) return v;
  const json = join(dir, 'out', 'cli.json');
  const args = ['-r', join(__dirname, 'maxrss.cjs'), join(ROOT, 'bin', 'qat-lens.js'), 'analyze', join(modelDir, file), '--json', json, ...(spec.bits ? ['--bits', String(spec.bits)] : [])];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: CASE_LIMIT_MS + 5000, env: { ...process.env, QAT_LENS_DEBUG: '' } });
  if (r.error || r.signal) {
    v.push(`cli: ${r.signal ? `killed by ${r.signal} after ${Date.now() - t0} ms` : String(r.error)}`);
    return v;
  }
  if (![0, 1, 2].includes(r.status ?? -1)) v.push(`cli: exit code ${r.status}`);
  const rss = Number(/QATFUZZ_MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? 0);
  if (rss > MEMORY_LIMIT_KB) v.push(`cli: peak memory ${(rss / 1024).toFixed(0)} MB`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !/^\s*\d+% /.test(l) && !l.startsWith('QATFUZZ_MAXRSS'));
  if (lines.length > 3) v.push(`cli: ${lines.length} lines on stderr`);
  if (/\n\s+at .+:\d+:\d+/.test(r.stderr)) v.push('cli: stack trace on stderr');
  if (r.status !== 0) {
    if (!lines.some((l) => l.includes(modelDir))) v.push(`cli: the refusal does not name the file: ${lines.join(' | ').slice(0, 200)}`);
    if (existsSync(json)) v.push('cli: wrote the report although the input was refused');
  }
  return v;
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzStats> {
  const log = opts.log ?? (() => {});
  const targets = opts.targets ?? TARGETS;
  const n = opts.n ?? Infinity;
  const deadline = opts.seconds ? Date.now() + opts.seconds * 1000 : Infinity;
  const tmp = mkdtempSync(join(tmpdir(), 'qat-fuzz-'));
  const stats: FuzzStats = {
    seed: opts.seed,
    cases: 0,
    perTarget: {},
    cliRuns: 0,
    failures: [],
    hangs: 0,
    crashes: 0,
    outsideReads: 0,
    slowestMs: 0,
    peakRssMb: 0,
    seconds: 0,
    loadavg: { start: loadavg(), end: [] },
  };
  const worker = new Worker();
  const t0 = Date.now();
  try {
    for (let i = 0; i < n && Date.now() < deadline; i++) {
      const target = targets[i % targets.length];
      const dir = join(tmp, `case-${i}`);
      mkdirSync(dir);
      const spec = makeCase(target, new Rng(caseSeed(opts.seed, i)), dir);
      const { outcome, maxRssKb, died } = await worker.run(dir, spec, i);
      const violations = [...outcome.violations];
      if (maxRssKb > MEMORY_LIMIT_KB) violations.push(`peak memory ${(maxRssKb / 1024).toFixed(0)} MB`);
      stats.peakRssMb = Math.max(stats.peakRssMb, maxRssKb / 1024);
      if (opts.cliEvery && i % opts.cliEvery === 0 && !died) {
        violations.push(...cliCheck(dir, spec));
        stats.cliRuns++;
      }
      const pt = (stats.perTarget[target] ??= { cases: 0, accepted: 0, refused: 0 });
      pt.cases++;
      if (outcome.ok) pt.accepted++;
      else pt.refused++;
      stats.cases++;
      stats.slowestMs = Math.max(stats.slowestMs, outcome.ms);
      if (violations.length) {
        if (died === 'hang' || violations.some((v) => v.startsWith('took'))) stats.hangs++;
        if (died === 'crash' || violations.some((v) => v.startsWith('crash'))) stats.crashes++;
        if (violations.some((v) => v.startsWith('read outside'))) stats.outsideReads++;
        const f: FuzzStats['failures'][number] = { target, index: i, how: spec.how, violations };
        if (opts.save) {
          f.saved = join(FAILURES, `${target}-s${opts.seed}-${i}`);
          rmSync(join(dir, 'out'), { recursive: true, force: true });
          mkdirSync(join(dir, 'out'));
          cpSync(dir, f.saved, { recursive: true, verbatimSymlinks: true });
        }
        stats.failures.push(f);
        log(`FAIL ${target} #${i} (${spec.how}): ${violations.join('; ')}${f.saved ? ` -> ${f.saved}` : ''}`);
      }
      rmSync(dir, { recursive: true, force: true });
      if ((i + 1) % 500 === 0) log(`${i + 1} cases, ${stats.failures.length} failing, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    worker.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  stats.seconds = (Date.now() - t0) / 1000;
  stats.loadavg.end = loadavg();
  return stats;
}
