// Dispatches a job request to its engine function. The worker, the CLI and tests all call runJob.
import { runAnalyze } from './analyze';
import { runCompare } from './compare';
import { guardMemory } from '../errors';
import type { JobContext } from '../context';
import { runCorrect } from './correct';
import { runDiag } from './diag';
import { runEval } from './eval';
import { runWorkflow } from './workflow';
import { runMap } from './map';
import { runPrecision } from './precision';
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
  precision: runPrecision,
};

/** What to lower when a job runs out of memory (named in the one-line error). */
const MEMORY_SETTING: Record<JobKind, string> = {
  analyze: 'the number of checkpoints analysed at once',
  eval: 'the size of the detections file (map --limit N, or a higher confidence threshold qatLens.nms.confThreshold)',
  map: '--batch N (images per inference call) or --limit N',
  probe: '--limit N, --layer-images N, or the number of --delta values',
  correct: '--batch N (qatLens.qc.batchSize) or --calib-images N (qatLens.calibrationImages)',
  diag: 'nothing (diag allocates nothing large)',
  compare: '--limit N, or the number of --delta values',
  workflow: '--limit N, or the QC batch (--batch N)',
  precision: '--limit N or --candidates N',
};

export function runJob(request: JobRequest, ctx: JobContext): Promise<JobResult> {
  const handler = handlers[request.kind] as (p: unknown, ctx: JobContext) => Promise<JobResult>;
  // Allocation failures anywhere in a job (typed arrays, strings, onnxruntime) end in one line
  // naming the setting to lower, not a RangeError and a stack trace.
  return guardMemory(() => handler(request.params, ctx), `running ${request.kind}`, MEMORY_SETTING[request.kind]);
}
