// Dispatches a job request to its engine function. The worker, the CLI and tests all call runJob.
import { runAnalyze } from './analyze';
import { runCompare } from './compare';
import type { JobContext } from '../context';
import { runCorrect } from './correct';
import { runDiag } from './diag';
import { runEval } from './eval';
import { runWorkflow } from './workflow';
import { runMap } from './map';
import { runProbe } from './probe';
import type { JobKind, JobParams, JobRequest, JobResult, JobResults } from './types';

type Handlers = { [K in JobKind]: (p: JobParams[K], ctx: JobContext) => Promise<JobResults[K]> };

const handlers: Handlers = {
  analyze: runAnalyze,
  eval: runEval,
  map: runMap,
  probe: runProbe,
  correct: runCorrect,
  diag: runDiag,
  compare: runCompare,
  workflow: runWorkflow,
};

export function runJob(request: JobRequest, ctx: JobContext): Promise<JobResult> {
  const handler = handlers[request.kind] as (p: unknown, ctx: JobContext) => Promise<JobResult>;
  return handler(request.params, ctx);
}
