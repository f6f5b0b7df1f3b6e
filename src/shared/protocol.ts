// The one message protocol of QAT Lens. The host (extension or CLI) sends job requests to the
// worker and gets progress, logs and results back; the webview and the host exchange panel
// messages. Every message is plain JSON-cloneable data, discriminated by `type`.
// The protocol imports the engine's types; the engine never imports this file.
import type { AnalysisReport } from '../core/analysis/types';
import type { MapComparison, MapEntry } from '../core/compare/types';
import type { LogLevel, Progress } from '../core/context';
import type { ErrorInfo } from '../core/errors';
import type { JobKind, JobParams, JobRequest, JobResult, JobResults } from '../core/jobs/types';

export type { JobKind, JobParams, JobRequest, JobResult, JobResults, LogLevel, MapComparison, MapEntry, Progress };

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

// =====================================================================================
// ---- webview panel <-> host (owned by the VS Code host, src/host; the panel, webview/) ----
// The panel never sees file-system objects or job requests: the host turns job results into the
// view models below and the panel asks the host to do things by name.
// =====================================================================================
/** Where the panel shows a job's life, so the user sees the queue too. */
export interface PanelJobState {
  running?: { title: string; message?: string; fraction?: number };
  queued: string[];
}

export type HostToPanel =
  | { type: 'analysis'; report: AnalysisReport; engine: string }
  | { type: 'comparison'; comparison: MapComparison }
  | { type: 'job'; job: PanelJobState }
  | { type: 'select'; layer: string };

export type PanelToHost =
  | { type: 'ready' }
  | { type: 'selectLayer'; layer: string }
  /** `files`: the analyzed checkpoints, from the panel's own state (it outlives the host across a reload). */
  | { type: 'exportReport'; format: 'html' | 'json'; files?: string[] }
  | { type: 'reveal'; file: string }
  | { type: 'runCommand'; command: 'qatLens.analyze' | 'qatLens.correct' | 'qatLens.probe' | 'qatLens.compareMap' | 'qatLens.cancelJob' };
