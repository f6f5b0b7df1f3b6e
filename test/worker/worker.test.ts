// The worker protocol end to end: the real bundled worker process, real IPC.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CancelledError } from '../../src/core/errors';
import { isWorkerMessage } from '../../src/shared/protocol';
import { JobFailedError, WorkerClient, WorkerCrashedError } from '../../src/worker/client';

const workerPath = join(__dirname, '..', '..', 'dist', 'worker.js');

test('a job reports progress in order and returns its result', async () => {
  const client = new WorkerClient({ workerPath });
  try {
    const fractions: number[] = [];
    const r = await client.run({ kind: 'diag', params: { steps: 4, delayMs: 5 } }, { onProgress: (p) => fractions.push(p.fraction!) });
    assert.deepEqual(fractions, [0.25, 0.5, 0.75, 1]);
    assert.equal(r.kind, 'diag');
    assert.equal((r as { pid: number }).pid, client.pid, 'the job ran in the worker process');
    assert.notEqual(client.pid, process.pid);
  } finally {
    client.dispose();
  }
});

test('a cancelled job rejects with CancelledError and the worker stays usable', async () => {
  const client = new WorkerClient({ workerPath });
  try {
    const ac = new AbortController();
    let seen = 0;
    const p = client.run(
      { kind: 'diag', params: { steps: 1000, delayMs: 10 } },
      {
        signal: ac.signal,
        onProgress: () => {
          if (++seen === 2) ac.abort();
        },
      },
    );
    await assert.rejects(p, CancelledError);
    assert.ok(seen >= 2 && seen < 1000, `stopped early (saw ${seen} events)`);
    const pid = client.pid;
    const r = await client.run({ kind: 'diag', params: { steps: 1, delayMs: 1 } });
    assert.equal((r as { pid: number }).pid, pid, 'same worker process after a cooperative cancel');
  } finally {
    client.dispose();
  }
});

test('a worker that dies mid-job is reported, and the next job runs in a fresh worker', async () => {
  const client = new WorkerClient({ workerPath });
  try {
    let killedPid: number | undefined;
    const p = client.run(
      { kind: 'diag', params: { steps: 1000, delayMs: 10 } },
      {
        onProgress: () => {
          if (killedPid === undefined) {
            killedPid = client.pid;
            process.kill(killedPid!, 'SIGKILL');
          }
        },
      },
    );
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkerCrashedError, `got ${String(err)}`);
    assert.equal(err.exitSignal, 'SIGKILL');
    assert.match(err.message, /background worker was killed by SIGKILL/);
    const r = await client.run({ kind: 'diag', params: { steps: 2, delayMs: 1 } });
    assert.equal(r.kind, 'diag');
    assert.notEqual((r as { pid: number }).pid, killedPid);
  } finally {
    client.dispose();
  }
});

test('jobs queue: the second starts after the first finishes', async () => {
  const client = new WorkerClient({ workerPath });
  try {
    const order: string[] = [];
    const a = client.run({ kind: 'diag', params: { steps: 3, delayMs: 10 } }, { onStart: () => order.push('a start') }).then(() => order.push('a done'));
    assert.equal(client.busy, true);
    const b = client.run({ kind: 'diag', params: { steps: 1, delayMs: 1 } }, { onStart: () => order.push('b start') }).then(() => order.push('b done'));
    assert.equal(client.queued, 1);
    await Promise.all([a, b]);
    assert.deepEqual(order, ['a start', 'a done', 'b start', 'b done']);
  } finally {
    client.dispose();
  }
});

test('a failing job reports the engine error with the file name', async () => {
  const client = new WorkerClient({ workerPath });
  try {
    const err = await client.run({ kind: 'analyze', params: { files: ['/nonexistent/model.pt'] } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof JobFailedError, `got ${String(err)}`);
    assert.match(err.message, /model\.pt/);
  } finally {
    client.dispose();
  }
});

test('the one queue: labels of the running and waiting jobs, change events, cancelRunning', async () => {
  const seen: string[] = [];
  const client: WorkerClient = new WorkerClient({ workerPath, onQueueChange: () => seen.push(`${client.runningLabel ?? '-'}|${client.queuedLabels.join(',')}`) });
  try {
    const a = client.run({ kind: 'diag', params: { steps: 1000, delayMs: 10 } }, { label: 'A' });
    const b = client.run({ kind: 'diag', params: { steps: 1, delayMs: 1 } }, { label: 'B' });
    assert.equal(client.runningLabel, 'A');
    assert.deepEqual(client.queuedLabels, ['B']);
    assert.equal(client.cancelRunning(), true);
    await assert.rejects(a, CancelledError);
    await b;
    assert.equal(client.runningLabel, undefined);
    assert.deepEqual(client.queuedLabels, []);
    assert.equal(client.cancelRunning(), false, 'nothing left to cancel');
    assert.deepEqual(seen, ['-|A', 'A|', 'A|B', '-|B', 'B|', '-|']);
  } finally {
    client.dispose();
  }
});

test('isWorkerMessage accepts the protocol and refuses malformed messages', () => {
  assert.equal(isWorkerMessage({ type: 'ready', pid: 12 }), true);
  assert.equal(isWorkerMessage({ type: 'progress', id: 1, progress: { message: 'x', fraction: 0.5 } }), true);
  assert.equal(isWorkerMessage({ type: 'done', id: 1, result: { kind: 'diag' } }), true);
  assert.equal(isWorkerMessage({ type: 'failed', id: 1, error: { message: 'm', name: 'Error' } }), true);
  assert.equal(isWorkerMessage({ type: 'progress', id: '1', progress: { message: 'x' } }), false, 'id must be a number');
  assert.equal(isWorkerMessage({ type: 'progress', id: 1, progress: { fraction: 0.5 } }), false, 'progress needs a message');
  assert.equal(isWorkerMessage({ type: 'log', id: 1, level: 'debug', message: 'x' }), false, 'unknown log level');
  assert.equal(isWorkerMessage({ type: 'done', id: 1 }), false, 'done needs a result');
  assert.equal(isWorkerMessage({ type: 'nope', id: 1 }), false);
  assert.equal(isWorkerMessage(null), false);
  assert.equal(isWorkerMessage('done'), false);
});
