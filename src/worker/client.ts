// Host side of the worker protocol: starts the worker process, runs one job at a time (others
// wait in a queue, the one queue of the product: the extension's JobRunner shows it), forwards
// progress and logs, cancels, and survives a worker crash: the job in flight fails with
// WorkerCrashedError and the next job starts a fresh worker. Messages from the worker are checked
// (isWorkerMessage) before they are used.
// Imports nothing of vscode, so the extension, tests and tools share it.
import { fork, type ChildProcess } from 'node:child_process';
import { CancelledError, type ErrorInfo, QatLensError } from '../core/errors';
import { isWorkerMessage, type JobRequest, type JobResult, type LogLevel, type Progress, type WorkerMessage } from '../shared/protocol';

export class WorkerCrashedError extends QatLensError {
  constructor(
    readonly exitCode: number | null,
    readonly exitSignal: string | null,
    readonly stderrTail: string,
  ) {
    const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
    super(`the background worker ${how} while running the job${stderrTail ? `; last output:\n${stderrTail}` : ''}`, undefined, 'EWORKERCRASH');
    this.name = 'WorkerCrashedError';
  }
}

/** A job failure reported by the worker, with the worker-side error details. */
export class JobFailedError extends QatLensError {
  constructor(readonly info: ErrorInfo) {
    super(info.message, undefined, info.code ?? 'EJOB');
    this.name = 'JobFailedError';
    this.message = info.message;
  }
}

export interface RunOptions {
  onProgress?: (p: Progress) => void;
  onLog?: (level: LogLevel, message: string) => void;
  signal?: AbortSignal;
  /** Called when the job leaves the queue and starts in the worker. */
  onStart?: () => void;
  /** What the job is called in the queue (runningLabel, queuedLabels). */
  label?: string;
}

export interface WorkerClientOptions {
  /** Path of the bundled worker script (dist/worker.js). */
  workerPath: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long a cancelled job may take to stop before the worker is killed (ms). */
  cancelGraceMs?: number;
  /** Receives the worker's stderr (the extension's output channel, the CLI's stderr). */
  onStderr?: (text: string) => void;
  /** Called whenever a job is queued, starts, or leaves (settles or is cancelled in the queue). */
  onQueueChange?: () => void;
  /** Receives what the worker sent that is not a protocol message (it is ignored). */
  onBadMessage?: (m: unknown) => void;
}

interface Pending {
  id: number;
  request: JobRequest;
  opts: RunOptions;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
}

export class WorkerClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private current: Pending | undefined;
  private readonly queue: Pending[] = [];
  private stderrTail = '';
  private disposed = false;

  constructor(private readonly options: WorkerClientOptions) {}

  /** True while a job runs; further jobs wait their turn. */
  get busy(): boolean {
    return this.current !== undefined;
  }
  get queued(): number {
    return this.queue.length;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  /** Label of the running job (RunOptions.label), if one runs. */
  get runningLabel(): string | undefined {
    return this.current && (this.current.opts.label ?? this.current.request.kind);
  }
  /** Labels of the waiting jobs, first to run first. */
  get queuedLabels(): string[] {
    return this.queue.map((p) => p.opts.label ?? p.request.kind);
  }

  /** Cancels the running job, else the first waiting one; false when there is none. */
  cancelRunning(): boolean {
    const p = this.current ?? this.queue[0];
    if (!p) return false;
    this.cancel(p);
    return true;
  }

  run(request: JobRequest, opts: RunOptions = {}): Promise<JobResult> {
    if (this.disposed) return Promise.reject(new QatLensError('the worker client was disposed'));
    return new Promise<JobResult>((resolve, reject) => {
      const pending: Pending = { id: this.nextId++, request, opts, resolve, reject };
      if (opts.signal?.aborted) return reject(new CancelledError());
      opts.signal?.addEventListener('abort', () => this.cancel(pending), { once: true });
      this.queue.push(pending);
      this.changed();
      this.pump();
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const p of this.queue.splice(0)) p.reject(new CancelledError());
    this.child?.kill();
    this.child = undefined;
  }

  private cancel(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queue.splice(i, 1);
      p.reject(new CancelledError());
      this.changed();
      return;
    }
    if (this.current !== p || !this.child) return;
    this.child.send({ type: 'cancel', id: p.id });
    // A job stuck in synchronous work cannot see the signal: stop the process itself.
    const child = this.child;
    const timer = setTimeout(() => {
      if (this.current === p && this.child === child) {
        this.detach(child);
        child.kill('SIGKILL');
        this.finish(p, () => p.reject(new CancelledError()));
      }
    }, this.options.cancelGraceMs ?? 5000);
    timer.unref();
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const p = this.queue.shift()!;
    this.current = p;
    const child = this.ensureChild();
    p.opts.onStart?.();
    this.changed();
    child.send({ type: 'run', id: p.id, request: p.request });
  }

  private finish(p: Pending, settle: () => void): void {
    if (this.current !== p) return;
    this.current = undefined;
    settle();
    this.changed();
    // Let the settled job's callbacks run before the next job starts.
    setImmediate(() => this.pump());
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    this.stderrTail = '';
    const child = fork(this.options.workerPath, [], {
      execArgv: this.options.execArgv ?? [],
      env: this.options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const onOutput = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.stderrTail = (this.stderrTail + text).slice(-2000);
      this.options.onStderr?.(text);
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.onMessage(m);
      else this.options.onBadMessage?.(m);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const p = this.current;
      if (p) this.finish(p, () => p.reject(new WorkerCrashedError(code, signal, this.stderrTail.trim())));
    });
    child.on('error', (err) => this.options.onStderr?.(`worker process error: ${err.message}\n`));
    this.child = child;
    return child;
  }

  private changed(): void {
    this.options.onQueueChange?.();
  }

  private detach(child: ChildProcess): void {
    if (this.child === child) this.child = undefined;
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === 'ready') return;
    const p = this.current;
    if (!p || m.id !== p.id) return;
    switch (m.type) {
      case 'progress':
        p.opts.onProgress?.(m.progress);
        break;
      case 'log':
        p.opts.onLog?.(m.level, m.message);
        break;
      case 'done':
        this.finish(p, () => p.resolve(m.result));
        break;
      case 'failed':
        this.finish(p, () => p.reject(new JobFailedError(m.error)));
        break;
      case 'cancelled':
        this.finish(p, () => p.reject(new CancelledError()));
        break;
    }
  }
}
