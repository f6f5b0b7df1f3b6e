// Status-bar item shown while a job runs (or waits); clicking it cancels the running job.
import * as vscode from 'vscode';
import { statusText } from './jobText';

export class JobStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('qatLens.job', vscode.StatusBarAlignment.Left, 100);

  constructor() {
    this.item.name = 'QAT Lens job';
    this.item.command = 'qatLens.cancelJob';
  }

  show(running: string, queued: number, message?: string): void {
    this.item.text = statusText(running, queued, message);
    this.item.tooltip = `QAT Lens is running "${running}"${queued ? `, ${queued} more queued` : ''}. Click to cancel it.`;
    this.item.show();
  }

  hide(): void {
    this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
