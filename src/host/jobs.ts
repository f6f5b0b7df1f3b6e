// Runs engine jobs in the background worker for the commands: a cancellable progress notification,
// the status-bar item, the output-channel log (engine, timings, warnings) and error notifications.
// One job runs at a time: the WorkerClient's queue is the one queue (this runner shows it, and only
// keeps the running job's progress); a second job is queued and the user is told so.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import type { JobKind, JobParams, JobResults, PanelJobState } from '../shared/protocol';
import { WorkerClient } from '../worker/client';
import { formatDuration, progressMessage, queuedNotice } from './jobText';
import { type Log, showError } from './log';
import { JobStatusBar } from './statusBar';

export interface RunOptions {
  /** Takes a failure's one-line message instead of the error notification (a view that shows it). */
  onError?: (message: string) => void;
}

export class JobRunner implements vscode.Disposable {
  private client: WorkerClient | undefined;
  /** The running job's last progress (the queue itself is the WorkerClient's). */
  private progress: { message?: string; fraction?: number } = {};
  private readonly status = new JobStatusBar();
  private readonly changed = new vscode.EventEmitter<PanelJobState>();
  /** Fires whenever the running job, its progress or the queue changes (the panel shows it). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly extensionPath: string,
    private readonly log: Log,
  ) {}

  /** The worker process starts with the first job, never at activation. */
  private worker(): WorkerClient {
    this.client ??= new WorkerClient({
      workerPath: path.join(this.extensionPath, 'dist', 'worker.js'),
      onStderr: (t) => this.log.info(`[worker] ${t.trimEnd()}`),
      onBadMessage: (m) => this.log.warn(`ignored a malformed message from the worker: ${JSON.stringify(m)?.slice(0, 200)}`),
      onQueueChange: () => this.update(),
    });
    return this.client;
  }

  get state(): PanelJobState {
    const running = this.client?.runningLabel;
    return {
      running: running === undefined ? undefined : { title: running, ...this.progress },
      queued: this.client?.queuedLabels ?? [],
    };
  }

  /** Cancels the running job, else the first waiting one (the status-bar click and the palette command). */
  cancelRunning(): boolean {
    const title = this.client?.runningLabel ?? this.client?.queuedLabels[0];
    if (title === undefined || !this.client?.cancelRunning()) return false;
    this.log.info(`cancel requested: ${title}`);
    return true;
  }

  /**
   * Runs one job; resolves to its result, or to undefined when cancelled or failed (the failure
   * is logged and shown with "Show Log"). Never throws.
   */
  async run<K extends JobKind>(title: string, kind: K, params: JobParams[K], opts: RunOptions = {}): Promise<JobResults[K] | undefined> {
    const ac = new AbortController();
    const ahead = (this.client?.busy ? 1 : 0) + (this.client?.queued ?? 0);
    const running = this.client?.runningLabel ?? this.client?.queuedLabels[0];
    if (running !== undefined) {
      this.log.info(`${title}: queued behind "${running}"`);
      void vscode.window.showInformationMessage(queuedNotice(title, running, ahead));
    }
    const t0 = Date.now();
    let tStart = t0;
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `QAT Lens: ${title}`, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        if (running) progress.report({ message: `queued: waiting for "${running}" to finish` });
        let lastFraction = 0;
        const result = await this.worker().run({ kind, params } as never, {
          signal: ac.signal,
          label: title,
          onStart: () => {
            this.progress = {};
            tStart = Date.now();
            this.log.info(`${title}: started (${kind} ${summarize(params)})`);
            progress.report({ message: 'starting…' });
            this.update();
          },
          onProgress: (p) => {
            this.progress = { message: p.message, fraction: p.fraction };
            // withProgress takes increments; the worker reports absolute fractions.
            const inc = p.fraction !== undefined ? Math.max(0, (p.fraction - lastFraction) * 100) : undefined;
            if (p.fraction !== undefined) lastFraction = Math.max(lastFraction, p.fraction);
            progress.report({ message: progressMessage(p.message, p.fraction), increment: inc });
            this.update();
          },
          onLog: (level, m) => {
            if (level === 'error') this.log.error(`${title}: ${m}`);
            else if (level === 'warn') this.log.warn(`${title}: ${m}`);
            else this.log.info(`${title}: ${m}`);
          },
        });
        const waited = tStart - t0;
        this.log.info(`${title}: done in ${formatDuration(Date.now() - tStart)}${waited > 50 ? ` (waited ${formatDuration(waited)} in the queue)` : ''}`);
        return result as JobResults[K];
      });
    } catch (err) {
      if (err instanceof CancelledError) {
        this.log.info(`${title}: cancelled after ${formatDuration(Date.now() - t0)}`);
        void vscode.window.showInformationMessage(`QAT Lens: "${title}" was cancelled.`);
        return undefined;
      }
      const msg = err instanceof Error ? err.message : String(err);
      this.log.error(`${title}: failed after ${formatDuration(Date.now() - t0)}: ${msg}`);
      if (err instanceof Error && err.stack) this.log.debug(err.stack);
      if (opts.onError) opts.onError(headline(msg));
      else void showError(this.log, `${title} failed: ${headline(msg)}`);
      return undefined;
    }
  }

  private update(): void {
    const s = this.state;
    if (s.running) this.status.show(s.running.title, s.queued.length, s.running.message);
    else if (s.queued.length) this.status.show(`waiting: ${s.queued[0]}`, s.queued.length - 1);
    else this.status.hide();
    void vscode.commands.executeCommand('setContext', 'qatLens.jobRunning', s.running !== undefined || s.queued.length > 0);
    this.changed.fire(s);
  }

  dispose(): void {
    this.client?.dispose();
    this.status.dispose();
    this.changed.dispose();
  }
}

/** A notification shows the first line of an error (the log has all of it, e.g. a crashed worker's output). */
function headline(msg: string): string {
  const first = msg.split('\n')[0]!.replace(/; last output:$/, '');
  return first.length > 300 ? `${first.slice(0, 299)}…` : first;
}

/** Short, readable parameter summary for the log (file names, not whole paths). */
function summarize(params: unknown): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (v === undefined) continue;
    const show = (x: unknown): string => (typeof x === 'string' && x.includes(path.sep) ? path.basename(x) : JSON.stringify(x));
    parts.push(`${k}=${Array.isArray(v) ? v.map(show).join(',') : show(v)}`);
  }
  return parts.join(' ');
}
