// One QAT Lens webview (the panel or a checkpoint editor tab): the page, the resource roots, and
// the message handshake. Messages posted before the webview says 'ready' wait (one per type, the
// latest wins) and are sent then, with whatever `onReady` adds.
import * as vscode from 'vscode';
import type { HostToPanel, PanelToHost } from '../shared/protocol';
import { panelHtml } from './panelHtml';

export interface PanelHandlers {
  exportReport(format: 'html' | 'json', files?: string[]): void;
  runCommand(command: string): void;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export class PanelWebview implements vscode.Disposable {
  private ready = false;
  private pending: HostToPanel[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly handlers: PanelHandlers,
    /** Messages a fresh webview needs (after a hide-and-show, it starts over). */
    private readonly onReady: (queued: HostToPanel[]) => HostToPanel[] = (q) => q,
    view: 'panel' | 'editor' = 'panel',
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.png');
    const uri = (...p: string[]): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: uri('dist', 'webview.js'),
      plotlyUri: uri('dist', 'plotly.min.js'),
      styleUri: uri('media', 'panel.css'),
      view,
    });
    panel.webview.onDidReceiveMessage((m: PanelToHost) => this.onMessage(m), undefined, this.disposables);
  }

  post(m: HostToPanel): void {
    if (!this.ready) {
      this.pending = this.pending.filter((p) => p.type !== m.type).concat(m);
      return;
    }
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: PanelToHost): void {
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        const queue = this.onReady(this.pending);
        this.pending = [];
        for (const q of queue) void this.panel.webview.postMessage(q);
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

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
