// "Open a checkpoint like any file": a read-only custom editor for .onnx .pt .pth .ckpt .safetensors.
// Opening the file runs the analysis in the background worker and shows it in the editor tab, one
// tab per file; VS Code reopens the tabs after a reload and the analysis runs again. A file the
// readers refuse, or one without quantized layers, says why in the tab and offers the other editors.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type HostContext, settings } from './context';
import { exportReport } from './commands/exportReport';
import { PanelWebview } from './panelWebview';

export const EDITOR_VIEW_TYPE = 'qatLens.checkpoint';

export class CheckpointEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly ctx: HostContext) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(doc: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const ctx = this.ctx;
    const file = doc.uri.fsPath;
    const view = new PanelWebview(
      panel,
      ctx.ext.extensionUri,
      {
        exportReport: (format, files) => void exportReport(ctx, format, files ?? [file]),
        runCommand: (command) => void vscode.commands.executeCommand(command, doc.uri),
      },
      undefined,
      'editor',
    );
    panel.onDidDispose(() => view.dispose());
    const jobs = ctx.runner.onDidChange((job) => view.post({ type: 'job', job }));
    panel.onDidDispose(() => jobs.dispose());
    view.post({ type: 'notice', title: path.basename(file), text: 'Reading the checkpoint…' });
    if (doc.uri.scheme !== 'file') {
      view.post({ type: 'notice', title: path.basename(file), text: 'QAT Lens reads checkpoints from the file system only (this one is not on disk).' });
      return;
    }
    const s = settings();
    let error = 'The analysis was cancelled. Reopen the file to run it again.';
    const r = await ctx.runner.run(
      `Analyze ${path.basename(file)}`,
      'analyze',
      {
        files: [file],
        delta: s.delta,
        bits: s.bits,
        flagConcentration: s.flagConcentration,
        flagMaxPValue: s.flagMaxPValue,
      },
      { onError: (m) => (error = m) },
    );
    if (!r) {
      view.post({ type: 'notice', title: path.basename(file), text: error, action: { label: 'Open With Another Editor', command: 'workbench.action.reopenWithEditor' } });
      return;
    }
    ctx.lastAnalyzed = { files: [file] };
    view.post({ type: 'analysis', report: r.report, engine: 'none needed (weights only)' });
  }
}
