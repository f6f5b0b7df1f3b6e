// The one message protocol of QAT Lens. The host (extension or CLI) sends job requests to the
// worker and gets progress, logs and results back; the webview and the host exchange panel
// messages. Every message is plain JSON-cloneable data, discriminated by `type`.
// The protocol imports the engine's types; the engine never imports this file.
import type { AnalysisReport } from '../core/analysis/types';
import type { MapComparison, MapEntry } from '../core/compare/types';
import type { BootstrapInfo, MapDiff } from '../core/eval/bootstrap';
import type { LogLevel, Progress } from '../core/context';
import type { ErrorInfo } from '../core/errors';
import type { JobKind, JobParams, JobRequest, JobResult, JobResults } from '../core/jobs/types';
import type { PrecisionReport } from '../core/precision/types';

export type { BootstrapInfo, JobKind, JobParams, JobRequest, JobResult, JobResults, LogLevel, MapComparison, MapDiff, MapEntry, Progress };

// ---- host -> worker ----
export type HostMessage = { type: 'run'; id: number; request: JobRequest } | { type: 'cancel'; id: number };

// ---- worker -> host ----
export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'log'; id: number; level: LogLevel; message: string }
  | { type: 'done'; id: number; result: JobResult }
  | { type: 'failed'; id: number; error: ErrorInfo }
  | { type: 'cancelled'; id: number };

/** Whether a message from the worker process has the shape its `type` promises (the fields the client reads). */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as Record<string, unknown>;
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (x.type === 'ready') return typeof x.pid === 'number';
  if (typeof x.id !== 'number') return false;
  switch (x.type) {
    case 'progress':
      return obj(x.progress) && typeof x.progress.message === 'string' && (x.progress.fraction === undefined || typeof x.progress.fraction === 'number');
    case 'log':
      return (x.level === 'info' || x.level === 'warn' || x.level === 'error') && typeof x.message === 'string';
    case 'done':
      return obj(x.result) && typeof x.result.kind === 'string';
    case 'failed':
      return obj(x.error) && typeof x.error.message === 'string' && typeof x.error.name === 'string';
    case 'cancelled':
      return true;
    default:
      return false;
  }
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
  | { type: 'precision'; report: PrecisionReport }
  | { type: 'job'; job: PanelJobState }
  | { type: 'select'; layer: string }
  /** A line in place of a result (a checkpoint editor whose file could not be analyzed), with an optional button. */
  | { type: 'notice'; title: string; text: string; action?: { label: string; command: PanelCommand } };

export type PanelToHost =
  | { type: 'ready' }
  | { type: 'selectLayer'; layer: string }
  /** `files`: the analyzed checkpoints, from the panel's own state (it outlives the host across a reload). */
  | { type: 'exportReport'; format: 'html' | 'json'; files?: string[] }
  | { type: 'reveal'; file: string }
  | { type: 'runCommand'; command: PanelCommand };

/** Commands a webview may ask the host to run. */
export type PanelCommand = 'qatLens.analyze' | 'qatLens.correct' | 'qatLens.probe' | 'qatLens.compareMap' | 'qatLens.precision' | 'qatLens.cancelJob' | 'workbench.action.reopenWithEditor';
