// "Export Report": the CLI's --html / --json for the analysis the panel shows. It re-runs the same
// analyze job with the output paths set, so the file is byte-for-byte what the CLI writes.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type HostContext, settings } from '../context';

export async function exportReport(ctx: HostContext, format?: 'html' | 'json', fromPanel?: string[]): Promise<void> {
  const files = fromPanel?.length ? fromPanel : (ctx.lastAnalyzed?.files ?? ctx.panel.lastAnalysis?.summary.files);
  if (!files?.length) {
    void vscode.window.showInformationMessage('QAT Lens: analyze a checkpoint first; Export Report saves that analysis.');
    return;
  }
  const fmt = format ?? (await vscode.window.showQuickPick(['html', 'json'], { title: 'Report format' }));
  if (fmt !== 'html' && fmt !== 'json') return;
  const first = files[files.length - 1]!;
  const target = await vscode.window.showSaveDialog({
    title: 'Save the oscillation report',
    defaultUri: vscode.Uri.file(path.join(path.dirname(first), `${path.basename(first, path.extname(first))}.qat-lens.${fmt}`)),
    filters: fmt === 'html' ? { 'HTML report': ['html'] } : { 'JSON report': ['json'] },
  });
  if (!target) return;
  const s = settings();
  const r = await ctx.runner.run('Export Report', 'analyze', {
    files,
    delta: s.delta,
    bits: s.bits,
    flagConcentration: s.flagConcentration,
    flagMaxPValue: s.flagMaxPValue,
    ...(fmt === 'html' ? { htmlOut: target.fsPath } : { jsonOut: target.fsPath }),
  });
  if (!r) return;
  ctx.log.info(`Export Report: wrote ${target.fsPath}`);
  const open = await vscode.window.showInformationMessage(`QAT Lens: report saved to ${path.basename(target.fsPath)}.`, 'Reveal');
  if (open) void vscode.commands.executeCommand('revealFileInOS', target);
}
