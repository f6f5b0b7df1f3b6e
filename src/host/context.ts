// What every command gets: the job runner, the panel, the log, settings and remembered choices.
import * as vscode from 'vscode';
import type { JobRunner } from './jobs';
import type { Log } from './log';
import type { QatLensPanel } from './panel';
import { readSettings, type Settings } from './settings';

export interface HostContext {
  ext: vscode.ExtensionContext;
  runner: JobRunner;
  panel: QatLensPanel;
  log: Log;
  /** The last analysis's inputs, so Export Report writes the same report the CLI would. */
  lastAnalyzed?: { files: string[] };
}

export function settings(): Settings {
  const cfg = vscode.workspace.getConfiguration('qatLens');
  return readSettings((k) => cfg.get(k));
}

const PAIRING_KEY = 'qatLens.onnxPairing';

/** ONNX model remembered for a PyTorch checkpoint (QC and probes run on the ONNX export). */
export function pairedOnnx(ctx: HostContext, checkpoint: string): string | undefined {
  return ctx.ext.workspaceState.get<Record<string, string>>(PAIRING_KEY, {})[checkpoint];
}

export async function rememberPairing(ctx: HostContext, checkpoint: string, onnx: string): Promise<void> {
  const all = { ...ctx.ext.workspaceState.get<Record<string, string>>(PAIRING_KEY, {}), [checkpoint]: onnx };
  await ctx.ext.workspaceState.update(PAIRING_KEY, all);
}

const PROBE_KEY = 'qatLens.probedDeltas';

/** δ values of the last soft-rounding probe on this model (shown beside QC), or none. */
export function probedDeltas(ctx: HostContext, model: string): number[] {
  return ctx.ext.workspaceState.get<Record<string, number[]>>(PROBE_KEY, {})[model] ?? [];
}

export async function rememberProbe(ctx: HostContext, model: string, deltas: number[]): Promise<void> {
  await ctx.ext.workspaceState.update(PROBE_KEY, { ...ctx.ext.workspaceState.get<Record<string, number[]>>(PROBE_KEY, {}), [model]: deltas });
}
