// The QAT Lens panel: one webview panel, created on demand, restored after a window reload by the
// WebviewPanelSerializer (the webview restores its own view from getState). The host keeps what it
// last sent so a reopened panel shows it again.
import * as vscode from 'vscode';
import type { AnalysisReport } from '../core/analysis/types';
import type { PrecisionReport } from '../core/precision/types';
import type { HostToPanel, MapComparison, PanelJobState, PanelToHost } from '../shared/protocol';
import { panelHtml } from './panelHtml';

export const PANEL_VIEW_TYPE = 'qatLens.panel';

export interface PanelHandlers {
  exportReport(format: 'html' | 'json', files?: string[]): void;
  runCommand(command: string): void;
}

export class QatLensPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private pending: HostToPanel[] = [];
  private analysis: { report: AnalysisReport; engine: string } | undefined;
  private comparison: MapComparison | undefined;
  private precision: PrecisionReport | undefined;
  private job: PanelJobState = { queued: [] };
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly handlers: PanelHandlers) {
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
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'QAT Lens', vscode.ViewColumn.Active, this.options());
    this.attach(panel);
  }

  showAnalysis(report: AnalysisReport, engine: string): void {
    this.analysis = { report, engine };
    this.show();
    this.post({ type: 'analysis', report, engine });
  }

  showComparison(comparison: MapComparison): void {
    this.comparison = comparison;
    this.show();
    this.post({ type: 'comparison', comparison });
  }

  showPrecision(report: PrecisionReport): void {
    this.precision = report;
    this.show();
    this.post({ type: 'precision', report });
  }

  setJob(job: PanelJobState): void {
    this.job = job;
    if (this.panel) this.post({ type: 'job', job });
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      enableFindWidget: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    const uri = (...p: string[]): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: uri('dist', 'webview.js'),
      plotlyUri: uri('dist', 'plotly.min.js'),
      styleUri: uri('media', 'panel.css'),
    });
    panel.webview.onDidReceiveMessage((m: PanelToHost) => this.onMessage(m), undefined, this.disposables);
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    }, undefined, this.disposables);
  }

  private onMessage(m: PanelToHost): void {
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        // A fresh webview (new panel or hidden-and-shown): resend what the host holds. After a
        // window reload the host holds nothing and the webview keeps its own saved state.
        const queue = this.pending;
        this.pending = [];
        if (this.analysis && !queue.some((q) => q.type === 'analysis')) queue.unshift({ type: 'analysis', ...this.analysis });
        if (this.comparison && !queue.some((q) => q.type === 'comparison')) queue.push({ type: 'comparison', comparison: this.comparison });
        if (this.precision && !queue.some((q) => q.type === 'precision')) queue.push({ type: 'precision', report: this.precision });
        queue.push({ type: 'job', job: this.job });
        for (const q of queue) void this.panel?.webview.postMessage(q);
        break;
      }
      case 'exportReport':
        this.handlers.exportReport(m.format, m.files);
        break;
      case 'runCommand':
        this.handlers.runCommand(m.command);
        break;
      case 'reveal':
        void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(m.file));
        break;
      case 'selectLayer':
        break;
    }
  }

  private post(m: HostToPanel): void {
    if (!this.panel || !this.ready) {
      this.pending = this.pending.filter((p) => p.type !== m.type).concat(m);
      return;
    }
    void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
