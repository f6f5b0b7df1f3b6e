// A transport self-check: reports `steps` progress events `delayMs` apart, honouring cancellation.
// `qat-lens diag` and the worker tests use it to exercise progress, cancellation and crashes
// without depending on any model file.
import { throwIfAborted } from '../errors';
import type { JobContext } from '../context';

export interface DiagParams {
  steps: number;
  delayMs: number;
}
export interface DiagResult {
  kind: 'diag';
  steps: number;
  pid: number;
  node: string;
}

export async function runDiag(p: DiagParams, ctx: JobContext): Promise<DiagResult> {
  for (let i = 0; i < p.steps; i++) {
    throwIfAborted(ctx.signal);
    await new Promise((r) => setTimeout(r, p.delayMs));
    throwIfAborted(ctx.signal);
    ctx.progress({ message: `step ${i + 1}/${p.steps}`, fraction: (i + 1) / p.steps });
  }
  return { kind: 'diag', steps: p.steps, pid: process.pid, node: process.version };
}
