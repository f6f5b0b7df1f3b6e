// The one message protocol of QAT Lens. The host (extension or CLI) sends job requests to the
// worker and gets progress, logs and results back; the webview and the host exchange panel
// messages. Every message is plain JSON-cloneable data, discriminated by `type`.
import type { AnalysisReport } from '../core/analysis/types';
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

// =====================================================================================
// ---- webview panel <-> host (owned by the VS Code host, src/host; the panel, webview/) ----
// The panel never sees file-system objects or job requests: the host turns job results into the
// view models below and the panel asks the host to do things by name.
// =====================================================================================
/** One model's detection scores in the side-by-side mAP view (all fractions 0..1). */
export interface MapEntry {
  /** "float", "QAT", "QC", "soft-round δ=0.05", ... */
  label: string;
  /** File the numbers belong to (shown as a tooltip; revealable). */
  file?: string;
  /** COCO mAP@[.5:.95]. */
  map: number;
  /** COCO mAP@.5. */
  map50: number;
  /** COCO mAP@.75 where reported. */
  map75?: number;
  /** AP@[.5:.95] per category, by category name. */
  perCategory?: Record<string, number>;
  /** Precision at 101 recall points (COCO's interpolation), IoU .5:.95 averaged or at .5 (see prIou). */
  pr?: { recall: number[]; precision: number[] };
  /** Inference engine that produced the detections ("cpu", "webgpu", ...). */
  engine?: string;
  images?: number;
  /** The detection head where it was analysed: family, strides, anchors and where they came from. */
  head?: string;
}

export interface MapComparison {
  /** What ran: "Run QC Correction", "Compare mAP", "Soft-Rounding Probe". */
  title: string;
  data?: string;
  /** IoU the PR curves are drawn at, e.g. ".50:.95" or ".50". */
  prIou?: string;
  entries: MapEntry[];
  /** Written output, e.g. the corrected model. */
  outputs?: { label: string; file: string }[];
  notes?: string[];
}

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
