// What a CLI subcommand declares: its flags (node:util parseArgs), which arguments are input
// files (checked before any work starts), how to turn them into a job request, and how to print
// the result. The job itself runs through the same runJob as the worker.
import type { ParseArgsConfig } from 'node:util';
import type { JobRequest, JobResult } from '../shared/protocol';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  name: string;
  summary: string;
  /** Usage lines after "qat-lens NAME". */
  usage: string;
  /** Flag descriptions, one per line, for --help. */
  help: string;
  options: Options;
  positionals: { min: number; max: number };
  /** Paths that must exist before the job starts (from flags and positionals). */
  inputs(values: Values, positionals: string[]): string[];
  request(values: Values, positionals: string[]): JobRequest;
  print(result: JobResult, out: (line: string) => void): void;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function str(v: Values, key: string): string | undefined {
  const x = v[key];
  return typeof x === 'string' ? x : undefined;
}

export function num(v: Values, key: string, check?: (n: number) => boolean, what = 'a number'): number | undefined {
  const s = str(v, key);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || (check && !check(n))) throw new UsageError(`--${key} must be ${what}, got "${s}"`);
  return n;
}

export function numList(v: Values, key: string, check: (n: number) => boolean, what: string): number[] | undefined {
  const s = str(v, key);
  if (s === undefined) return undefined;
  const parts = s.split(',').map((x) => x.trim());
  const ns = parts.map(Number);
  if (parts.some((p) => p === '') || ns.some((n) => !Number.isFinite(n) || !check(n))) {
    throw new UsageError(`--${key} must be a comma-separated list of ${what}, got "${s}"`);
  }
  return ns;
}

export function engineOf(v: Values): 'auto' | 'cpu' | 'webgpu' | 'cuda' | undefined {
  const e = str(v, 'engine');
  if (e === undefined) return undefined;
  if (e === 'auto' || e === 'cpu' || e === 'webgpu' || e === 'cuda') return e;
  throw new UsageError(`--engine must be one of auto, cpu, webgpu, cuda; got "${e}"`);
}

/** --bootstrap N and --seed S: the resamples of the 95% intervals on mAP differences (compare, correct, probe, example). */
export const BOOTSTRAP_OPTIONS: Options = { bootstrap: { type: 'string' }, seed: { type: 'string' } };
export const BOOTSTRAP_HELP = [
  '  --bootstrap N      resamples of the 95% paired bootstrap interval of each mAP difference (default 1000; 0: none)',
  '  --seed S           seed of the bootstrap resamples (default 1)',
].join('\n');
export function bootstrapOf(v: Values): { bootstrap?: number; seed?: number } {
  return {
    bootstrap: num(v, 'bootstrap', (n) => Number.isInteger(n) && n >= 0 && n <= 1e6, 'a whole number from 0 to 1000000'),
    seed: num(v, 'seed', (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32, 'a whole number from 0 to 2^32 - 1'),
  };
}
/** Help line of `--anchors` (map, probe, compare, correct). */
export const ANCHORS_HELP =
  '  --anchors A    anchors for exports without a decode: W,H,W,H,.../W,H,.../... (pixels, one group per\n                 scale, smallest stride first) or a model yaml with anchors:; checked against a decode';
