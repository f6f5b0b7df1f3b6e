import type { LogLevel, Progress } from '../../shared/protocol';

/** What a running job may use: cancellation, progress and a log. Same in the worker, CLI and tests. */
export interface JobContext {
  signal: AbortSignal;
  progress(p: Progress): void;
  log(level: LogLevel, message: string): void;
}

/** A context that drops progress and logs: for engine calls from tests and benchmarks. */
export function quietContext(signal: AbortSignal = new AbortController().signal): JobContext {
  return { signal, progress: () => {}, log: () => {} };
}
