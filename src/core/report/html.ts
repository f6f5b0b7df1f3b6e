// Self-contained HTML reports: one file that opens offline, holding the data as JSON, Plotly, the
// panel's stylesheet in VS Code's light colours, and the report script (webview/report.ts, bundled
// to dist/report.js), which draws the panel's own views and charts. So a report looks like the panel.
// Used by `qat-lens analyze|compare|example --html` and the extension's "Export Report".
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AnalysisReport } from '../analysis/types';
import { QatLensError } from '../errors';
import { escapeHtml as esc, scriptJson } from './escape';
import type { ReportPageData } from './types';

export interface HtmlReportOptions {
  title?: string;
  /** Plotly's minified bundle as text; found on disk when omitted (dist/plotly.min.js or node_modules). */
  plotlyJs?: string;
}

/** The folders a bundled (dist/) or source (src/core/report/) build finds its assets in. */
function assetDirs(): string[] {
  const dirs = [__dirname];
  // From source: walk up to the package root (the folder holding package.json).
  for (let d = __dirname, i = 0; i < 6; i++, d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) {
      dirs.push(join(d, 'dist'), join(d, 'media'));
      break;
    }
  }
  dirs.push(join(__dirname, '..', 'media'));
  return dirs;
}

const cache = new Map<string, string>();

/** An asset file's text: beside the bundle, in dist/ or media/ of the package; `extra` paths are tried last. */
function loadAsset(name: string, extra: string[] = []): string {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const candidates = [...assetDirs().map((d) => join(d, name)), ...extra];
  for (const c of candidates) {
    if (existsSync(c)) {
      const text = readFileSync(c, 'utf8');
      cache.set(name, text);
      return text;
    }
  }
  throw new QatLensError(`${name} not found (looked in ${candidates.join(', ')}); reinstall QAT Lens, or run npm run build in a source checkout`);
}

/** Plotly's minified bundle: beside the bundle (dist/), else in node_modules. */
export function loadPlotly(): string {
  const extra: string[] = [];
  try {
    extra.push(require.resolve('plotly.js-dist-min/plotly.min.js'));
  } catch {
    // not resolvable from here (bundled without node_modules); the other candidates remain
  }
  return loadAsset('plotly.min.js', extra);
}

/** Text inside <script>: nothing in it can end the element early. */
const inScript = (js: string) => js.replace(/<\/script/gi, '<\\/script');

export interface ReportPageOptions extends HtmlReportOptions {
  title: string;
  data: ReportPageData;
  /** Static HTML sections after the drawn views (e.g. the probe's findings). */
  sectionsHtml?: string;
}

/** A whole report page. */
export function reportPage(o: ReportPageOptions): string {
  const css = `${loadAsset('report.css')}\n${loadAsset('panel.css')}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${css.replace(/<\/style/gi, '<\\/style')}</style>
<script>${inScript(o.plotlyJs ?? loadPlotly())}</script>
</head><body class="vscode-light qat-lens-report">
<header class="report-head"><h1>${esc(o.title)}</h1></header>
<main id="app"></main>
${o.sectionsHtml ?? ''}
<footer>QAT Lens · the quantities are defined in docs/definitions.md (u = W/s + z in float64, f = u − ⌊u⌋, d = |f − 0.5|)</footer>
<script id="qat-lens-data" type="application/json">${scriptJson(o.data)}</script>
<script>${inScript(loadAsset('report.js'))}</script>
</body></html>
`;
}

/** The oscillation report page. */
export function buildHtmlReport(report: AnalysisReport, opts: HtmlReportOptions & { engine?: string } = {}): string {
  return reportPage({ ...opts, title: opts.title ?? `QAT Lens oscillation report: ${report.summary.model}`, data: { analysis: { report, engine: opts.engine ?? 'none needed (weights only)' } } });
}
