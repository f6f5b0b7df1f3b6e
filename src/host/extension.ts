// Extension entry. Activation stays light: it registers commands, the panel serializer and the
// status bar, and creates nothing else; the worker process (onnxruntime, readers) starts with the
// first job. The activation time is logged to the output channel.
import * as vscode from 'vscode';
import { analyze } from './commands/analyze';
import { cancelJob } from './commands/cancelJob';
import { compareMap } from './commands/compareMap';
import { correct } from './commands/correct';
import { exportReport } from './commands/exportReport';
import { precision } from './commands/precision';
import { probe } from './commands/probe';
import { showPanel } from './commands/showPanel';
import type { HostContext } from './context';
import { JobRunner } from './jobs';
import { createLog } from './log';
import { QatLensPanel } from './panel';
import { CheckpointEditorProvider, EDITOR_VIEW_TYPE } from './checkpointEditor';

let host: HostContext | undefined;

export function activate(ext: vscode.ExtensionContext): HostContext {
  const t0 = performance.now();
  const log = createLog();
  const runner = new JobRunner(ext.extensionPath, log);
  const panel = new QatLensPanel(ext.extensionUri, {
    exportReport: (format, files) => void exportReport(ctx, format, files),
    runCommand: (command) => void vscode.commands.executeCommand(command),
  });
  const ctx: HostContext = { ext, runner, panel, log };
  host = ctx;
  ext.subscriptions.push(
    log,
    runner,
    panel,
    runner.onDidChange((s) => panel.setJob(s)),
  );

  const commands: Record<string, (...args: unknown[]) => unknown> = {
    'qatLens.analyze': (a, b) => analyze(ctx, a, b),
    'qatLens.correct': (a, b) => correct(ctx, a, b),
    'qatLens.probe': (a, b) => probe(ctx, a, b),
    'qatLens.compareMap': (a, b) => compareMap(ctx, a, b),
    'qatLens.precision': (a, b) => precision(ctx, a, b),
    'qatLens.showPanel': () => showPanel(ctx),
    'qatLens.exportReport': () => exportReport(ctx),
    'qatLens.cancelJob': () => cancelJob(ctx),
  };
  for (const [id, fn] of Object.entries(commands)) ext.subscriptions.push(vscode.commands.registerCommand(id, fn));
  // One editor tab per checkpoint, reopened (and re-analyzed) after a window reload.
  ext.subscriptions.push(
    vscode.window.registerCustomEditorProvider(EDITOR_VIEW_TYPE, new CheckpointEditorProvider(ctx), {
      supportsMultipleEditorsPerDocument: true,
    }),
  );

  log.info(`QAT Lens activated in ${(performance.now() - t0).toFixed(1)} ms (worker not started)`);
  return ctx;
}

export function deactivate(): void {
  host?.runner.dispose();
  host = undefined;
}
