// The QAT Lens panel: one webview panel for runs across several files, created on demand, restored
// after a window reload by the WebviewPanelSerializer (the webview restores its own view from
// getState). The host keeps what it last sent so a reopened panel shows it again.
import * as vscode from 'vscode';
import type { AnalysisReport } from '../core/analysis/types';
import type { PrecisionReport } from '../core/precision/types';
import type { HostToPanel, MapComparison, PanelJobState } from '../shared/protocol';
import { type PanelHandlers, PanelWebview, webviewOptions } from './panelWebview';

export type { PanelHandlers } from './panelWebview';
export const PANEL_VIEW_TYPE = 'qatLens.panel';

export class QatLensPanel implements vscode.Disposable {
  private view: PanelWebview | undefined;
  private analysis: { report: AnalysisReport; engine: string } | undefined;
  private comparison: MapComparison | undefined;
  private precision: PrecisionReport | undefined;
  private job: PanelJobState = { queued: [] };
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: PanelHandlers,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => {
          this.attach(panel);
        },
      }),
    );
  }

  /** The analysis last shown (Export Report re-runs it with the CLI's outputs). */
  get lastAnalysis(): AnalysisReport | undefined {
    return this.analysis?.report;
  }

  show(): void {
    if (this.view) {
      this.view.panel.reveal(undefined, false);
      return;
    }
    this.attach(vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'QAT Lens', vscode.ViewColumn.Active, webviewOptions(this.extensionUri)));
  }

  showAnalysis(report: AnalysisReport, engine: string): void {
    this.analysis = { report, engine };
    this.show();
    this.view?.post({ type: 'analysis', report, engine });
  }

  showComparison(comparison: MapComparison): void {
    this.comparison = comparison;
    this.show();
    this.view?.post({ type: 'comparison', comparison });
  }

  showPrecision(report: PrecisionReport): void {
    this.precision = report;
    this.show();
    this.view?.post({ type: 'precision', report });
  }

  setJob(job: PanelJobState): void {
    this.job = job;
    this.view?.post({ type: 'job', job });
  }

  private attach(panel: vscode.WebviewPanel): void {
    // A fresh webview (new panel or hidden-and-shown): resend what the host holds. After a
    // window reload the host holds nothing and the webview keeps its own saved state.
    const view = new PanelWebview(panel, this.extensionUri, this.handlers, (queue) => {
      const q = [...queue];
      if (this.analysis && !q.some((m) => m.type === 'analysis')) q.unshift({ type: 'analysis', ...this.analysis });
      if (this.comparison && !q.some((m) => m.type === 'comparison')) q.push({ type: 'comparison', comparison: this.comparison });
      if (this.precision && !q.some((m) => m.type === 'precision')) q.push({ type: 'precision', report: this.precision });
      q.push({ type: 'job', job: this.job });
      return q satisfies HostToPanel[];
    });
    this.view = view;
    panel.onDidDispose(
      () => {
        view.dispose();
        if (this.view === view) this.view = undefined;
      },
      undefined,
      this.disposables,
    );
  }

  dispose(): void {
    this.view?.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
