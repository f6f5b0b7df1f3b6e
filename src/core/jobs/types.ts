// Job kinds and their parameter/result types: the vocabulary of the worker protocol.
import type { AnalyzeParams, AnalyzeResult } from './analyze';
import type { CompareParams, CompareResult } from './compare';
import type { CorrectParams, CorrectResult } from './correct';
import type { DiagParams, DiagResult } from './diag';
import type { EvalParams, EvalResult } from './eval';
import type { ExampleParams, ExampleResult } from './example';
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
  example: ExampleParams;
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
  example: ExampleResult;
  precision: PrecisionResult;
}
export type JobKind = keyof JobParams;
