// The script of the self-contained HTML reports (bundled to dist/report.js and inlined by
// src/core/report/html.ts). It draws the panel's own views from the report's embedded JSON, with
// the panel's chart builders, so a report looks like the panel in VS Code's light theme. Sorting,
// filtering and layer selection work as in the panel; there is no host to talk to.
import type { ReportPageData } from '../src/core/report/types';
import { probeLayersFigure } from './charts';
import { analysisChartsView, drawAnalysisCharts, drawMapCharts, drawPrecisionCharts, mapChartsView } from './chartsView';
import { precisionView } from './precisionView';
import { type AnalysisActions, summaryView, tableView } from './analysisView';
import { mapTableView } from './mapView';
import { draw, resizeAll } from './plotly';
import { defaultSelection, initialState, nextSort, type PanelState } from './state';
import { readTheme } from './theme';

const data = JSON.parse(document.getElementById('qat-lens-data')!.textContent!) as ReportPageData;
const app = document.getElementById('app')!;
let state: PanelState = {
  ...initialState(),
  analysis: data.analysis,
  comparison: data.comparison,
  selected: data.analysis ? defaultSelection(data.analysis.report) : undefined,
};

const actions: AnalysisActions = {
  select: (layer) => {
    if (layer === state.selected) return;
    state = { ...state, selected: layer };
    redrawAnalysis(true);
  },
  sort: (key) => {
    state = { ...state, sort: nextSort(state.sort, key) };
    redrawAnalysis(false);
  },
  filter: (text, flaggedOnly) => {
    state = { ...state, filter: { text, flaggedOnly } };
    redrawAnalysis(false);
    (app.querySelector('#filter-text') as HTMLInputElement | null)?.focus();
  },
  exportReport: () => {}, // the buttons are hidden in a report (this page is the export)
};

const analysisRoot = document.createElement('div');
function redrawAnalysis(charts: boolean): void {
  const a = state.analysis;
  if (!a) return;
  analysisRoot.querySelector('section.layers')?.replaceWith(tableView(state, actions));
  if (charts) void drawAnalysisCharts(analysisRoot, a.report, state.selected, readTheme(), actions.select);
}

const theme = readTheme();
if (data.analysis) {
  analysisRoot.append(summaryView(data.analysis.report, data.analysis.engine, actions), analysisChartsView(), tableView(state, actions));
  app.append(analysisRoot);
  void drawAnalysisCharts(analysisRoot, data.analysis.report, state.selected, theme, actions.select);
}
if (data.comparison) {
  const mapRoot = document.createElement('div');
  // Files are not revealable from a static page: their full paths are in the links' titles.
  mapRoot.append(
    mapTableView(data.comparison, () => {}),
    mapChartsView(data.comparison),
  );
  app.append(mapRoot);
  void drawMapCharts(mapRoot, data.comparison, theme);
}
if (data.precision) {
  const root = document.createElement('div');
  // No host to reveal files in; copying the plan uses the page's own clipboard.
  root.append(
    precisionView(
      data.precision,
      () => {},
      (text) => void navigator.clipboard?.writeText(text),
    ),
  );
  app.append(root);
  void drawPrecisionCharts(root, data.precision, theme);
}
const probeChart = document.getElementById('chart-probe-layers');
if (data.probeLayers && probeChart) void draw(probeChart, probeLayersFigure(data.probeLayers, theme));

let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(resizeAll, 150);
});
