// What a running job may use: cancellation, progress and a log. A leaf: it imports nothing, so
// every part of the engine can take a JobContext without pulling in jobs/ or the host protocol.
// The same contexts run in the worker, the CLI and tests.

export interface Progress {
  message: string;
  /** 0..1 where known. */
  fraction?: number;
  /** Optional numbers a job reports (e.g. QC loss, layer index). */
  metrics?: Record<string, number>;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface JobContext {
  signal: AbortSignal;
  progress(p: Progress): void;
  log(level: LogLevel, message: string): void;
}

/** A context that drops progress and logs: for engine calls from tests and benchmarks. */
export function quietContext(signal: AbortSignal = new AbortController().signal): JobContext {
  return { signal, progress: () => {}, log: () => {} };
}

/** A part of a job: its progress messages get `prefix`, its fractions map into [start, start + span]. */
export function subContext(ctx: JobContext, prefix: string, start: number, span: number): JobContext {
  return {
    signal: ctx.signal,
    log: ctx.log,
    progress: (pr) => ctx.progress({ ...pr, message: `${prefix}: ${pr.message}`, fraction: pr.fraction === undefined ? undefined : start + span * pr.fraction }),
  };
}
