// Job kinds and their parameter/result types: the vocabulary of the worker protocol.
import type { AnalyzeParams, AnalyzeResult } from './analyze';
import type { CompareParams, CompareResult } from './compare';
import type { CorrectParams, CorrectResult } from './correct';
import type { DiagParams, DiagResult } from './diag';
import type { EvalParams, EvalResult } from './eval';
import type { WorkflowParams, WorkflowResult } from './workflow';
import type { MapParams, MapResult } from './map';
import type { PrecisionParams, PrecisionResult } from './precision';
import type { ProbeParams, ProbeResult } from './probe';

export interface JobParams {
  analyze: AnalyzeParams;
  eval: EvalParams;
  map: MapParams;
  probe: ProbeParams;
  correct: CorrectParams;
  diag: DiagParams;
  compare: CompareParams;
  workflow: WorkflowParams;
  precision: PrecisionParams;
}
export interface JobResults {
  analyze: AnalyzeResult;
  eval: EvalResult;
  map: MapResult;
  probe: ProbeResult;
  correct: CorrectResult;
  diag: DiagResult;
  compare: CompareResult;
  workflow: WorkflowResult;
  precision: PrecisionResult;
}
export type JobKind = keyof JobParams;

/** A job to run: its kind and that kind's parameters. */
export type JobRequest = { [K in JobKind]: { kind: K; params: JobParams[K] } }[JobKind];
export type JobResult = JobResults[JobKind];
