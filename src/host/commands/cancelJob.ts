import * as vscode from 'vscode';
import type { HostContext } from '../context';

export function cancelJob(ctx: HostContext): void {
  if (!ctx.runner.cancelRunning()) void vscode.window.showInformationMessage('QAT Lens: no job is running.');
}
