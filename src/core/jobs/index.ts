// Dispatches a job request to its engine function. The worker, the CLI and tests all call runJob.
import type { JobRequest, JobResult } from '../../shared/protocol';
import { runAnalyze } from './analyze';
import { runCompare } from './compare';
import type { JobContext } from './context';
import { runCorrect } from './correct';
import { runDiag } from './diag';
import { runEval } from './eval';
import { runExample } from './example';
import { runMap } from './map';
import { runPrecision } from './precision';
import { runProbe } from './probe';
import type { JobKind, JobParams, JobResults } from './types';

type Handlers = { [K in JobKind]: (p: JobParams[K], ctx: JobContext) => Promise<JobResults[K]> };

const handlers: Handlers = {
  analyze: runAnalyze,
  eval: runEval,
  map: runMap,
  probe: runProbe,
  correct: runCorrect,
  diag: runDiag,
  compare: runCompare,
  example: runExample,
  precision: runPrecision,
};

export function runJob(request: JobRequest, ctx: JobContext): Promise<JobResult> {
  const handler = handlers[request.kind] as (p: unknown, ctx: JobContext) => Promise<JobResult>;
  return handler(request.params, ctx);
}
