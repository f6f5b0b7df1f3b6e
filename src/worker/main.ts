// The background worker process. Started by the extension (child_process.fork) with an IPC
// channel; runs jobs from the engine and streams progress back. Never imports vscode.
import { CancelledError, toErrorInfo } from '../core/errors';
import { runJob } from '../core/jobs';
import type { HostMessage, LogLevel, Progress, WorkerMessage } from '../shared/protocol';

if (!process.send) {
  process.stderr.write('qat-lens worker: must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

const running = new Map<number, AbortController>();
const send = (m: WorkerMessage): void => {
  process.send?.(m);
};

process.on('message', (raw: unknown) => {
  const msg = raw as HostMessage;
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  if (msg.type !== 'run') return;
  const { id, request } = msg;
  const ac = new AbortController();
  running.set(id, ac);
  const ctx = {
    signal: ac.signal,
    progress: (progress: Progress) => send({ type: 'progress', id, progress }),
    log: (level: LogLevel, message: string) => send({ type: 'log', id, level, message }),
  };
  runJob(request, ctx)
    .then((result) => send({ type: 'done', id, result }))
    .catch((err: unknown) => {
      if (err instanceof CancelledError || ac.signal.aborted) send({ type: 'cancelled', id });
      else send({ type: 'failed', id, error: toErrorInfo(err) });
    })
    .finally(() => running.delete(id));
});

// The host going away (window closed, extension host crash) must not leave an orphan worker.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready', pid: process.pid });
