// Job "analyze". Owned by the engine; runs the same in the worker, the CLI and tests.
// Reads each checkpoint, computes the oscillation report, writes --json / --html atomically.
import { analyzeCheckpoints } from '../analysis/analyzeCheckpoints';
import type { AnalysisReport } from '../analysis/types';
import { QatLensError, guardMemory, throwIfAborted } from '../errors';
import { atomicWrite } from '../io/atomicWrite';
import { jsonChunks, withNewline } from '../io/jsonChunks';
import type { Checkpoint } from '../model';
import { readCheckpoint } from '../readers/index';
import { buildHtmlReport } from '../report/html';
import type { JobContext } from '../context';

export interface AnalyzeParams {
  /** One checkpoint, or several of one run (a sequence). */
  files: string[];
  bits?: number;
  /** Near-threshold distance δ (qatLens.delta), default 0.05. */
  delta?: number;
  /** Minimum concentration for a flag (qatLens.flag.concentration), default 1.5. */
  flagConcentration?: number;
  /** Largest Bonferroni-adjusted p-value for a flag (qatLens.flag.maxPValue), default 0.001. */
  flagMaxPValue?: number;
  jsonOut?: string;
  htmlOut?: string;
}
export interface AnalyzeResult {
  kind: 'analyze';
  report: AnalysisReport;
}

export async function runAnalyze(p: AnalyzeParams, ctx: JobContext): Promise<AnalyzeResult> {
  if (p.files.length === 0) throw new QatLensError('analyze needs at least one checkpoint');
  const checkpoints: Checkpoint[] = [];
  // Reading dominates; analysis is one pass per tensor. Progress: reading 0..0.6, analysis 0.6..0.95.
  for (const [i, file] of p.files.entries()) {
    throwIfAborted(ctx.signal);
    ctx.progress({ message: `reading ${file}`, fraction: (0.6 * i) / p.files.length });
    checkpoints.push(await readCheckpoint(file, { bits: p.bits }));
  }
  throwIfAborted(ctx.signal);
  const report = analyzeCheckpoints(checkpoints, {
    delta: p.delta,
    minConcentration: p.flagConcentration,
    maxPValue: p.flagMaxPValue,
    bits: p.bits,
    signal: ctx.signal,
    progress: (f, message) => ctx.progress({ message, fraction: 0.6 + 0.35 * f }),
  });
  if (p.jsonOut) {
    await atomicWrite(p.jsonOut, withNewline(jsonChunks(report, 1)), { signal: ctx.signal, inputs: p.files });
    ctx.log('info', `wrote ${p.jsonOut}`);
  }
  if (p.htmlOut) {
    const html = await guardMemory(() => buildHtmlReport(report), 'building the HTML report', 'the number of checkpoints, or write --json only', p.htmlOut);
    await atomicWrite(p.htmlOut, html, { signal: ctx.signal, inputs: p.files });
    ctx.log('info', `wrote ${p.htmlOut}`);
  }
  ctx.progress({ message: 'done', fraction: 1 });
  return { kind: 'analyze', report };
}
