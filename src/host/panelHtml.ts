// The panel's HTML shell. Pure (no vscode), so the Content-Security-Policy is unit-tested: no network,
// scripts only with this load's nonce, styles only from the extension (Plotly sets inline styles on
// its SVG nodes, hence style-src 'unsafe-inline'; no inline script is allowed).
import { randomBytes } from 'node:crypto';
import { escapeHtml as esc } from '../core/report/escape';

export interface PanelHtmlInput {
  /** webview.cspSource */
  cspSource: string;
  /** webview.asWebviewUri(...) of dist/webview.js, dist/plotly.min.js and webview/panel.css */
  scriptUri: string;
  plotlyUri: string;
  styleUri: string;
  nonce?: string;
  /** Which webview this is: the panel, or a checkpoint's editor tab (data-view on #app). */
  view?: 'panel' | 'editor';
}

export const makeNonce = (): string => randomBytes(18).toString('base64').replace(/[+/=]/g, '');

export function csp(cspSource: string, nonce: string): string {
  return ["default-src 'none'", `img-src ${cspSource} data: blob:`, `style-src ${cspSource} 'unsafe-inline'`, `font-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
}

export function panelHtml(input: PanelHtmlInput): string {
  const nonce = input.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp(input.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(input.styleUri)}">
<title>QAT Lens</title>
</head>
<body>
<main id="app" data-view="${input.view ?? 'panel'}" aria-live="polite">
  <section class="empty" id="empty">
    <h1>QAT Lens</h1>
    <p>Right-click a checkpoint (.pt, .onnx, .safetensors) in the Explorer and choose <b>Analyze Oscillation</b>,
    or run <b>QAT Lens: Analyze Oscillation</b> from the Command Palette.</p>
  </section>
</main>
<script nonce="${nonce}" src="${esc(input.plotlyUri)}"></script>
<script nonce="${nonce}" src="${esc(input.scriptUri)}"></script>
</body>
</html>`;
}
