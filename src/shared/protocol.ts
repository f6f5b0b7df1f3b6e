// The one message protocol of QAT Lens. The host (extension or CLI) sends job requests to the
// worker and gets progress, logs and results back; the webview and the host exchange panel
// messages. Every message is plain JSON-cloneable data, discriminated by `type`.
import type { ErrorInfo } from '../core/errors';
import type { JobKind, JobParams, JobResults } from '../core/jobs/types';

export type { JobKind, JobParams, JobResults };

/** A job to run: its kind and that kind's parameters. */
export type JobRequest = { [K in JobKind]: { kind: K; params: JobParams[K] } }[JobKind];
export type JobResult = JobResults[JobKind];

export interface Progress {
  message: string;
  /** 0..1 where known. */
  fraction?: number;
  /** Optional numbers a job reports (e.g. QC loss, layer index). */
  metrics?: Record<string, number>;
}

export type LogLevel = 'info' | 'warn' | 'error';

// ---- host -> worker ----
export type HostMessage =
  | { type: 'run'; id: number; request: JobRequest }
  | { type: 'cancel'; id: number };

// ---- worker -> host ----
export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'log'; id: number; level: LogLevel; message: string }
  | { type: 'done'; id: number; result: JobResult }
  | { type: 'failed'; id: number; error: ErrorInfo }
  | { type: 'cancelled'; id: number };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
