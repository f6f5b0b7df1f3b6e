// The QAT Lens panel script (runs inside the webview). Talks to the host only through messages;
// keeps its whole view in one state object saved with setState, so a window reload restores it.
import type { HostToPanel, PanelToHost } from '../src/shared/protocol';
import { analysisChartsView, drawAnalysisCharts, drawMapCharts, drawPrecisionCharts, mapChartsView } from './chartsView';
import { type AnalysisActions, summaryView, tableView } from './analysisView';
import { h } from './dom';
import { mapTableView } from './mapView';
import { precisionView } from './precisionView';
import { resizeAll } from './plotly';
import { defaultSelection, initialState, nextSort, type PanelState } from './state';
import { readTheme } from './theme';

declare function acquireVsCodeApi(): { postMessage(m: PanelToHost): void; getState(): unknown; setState(s: unknown): void };

const api = acquireVsCodeApi();
let state: PanelState = { ...initialState(), ...((api.getState() as Partial<PanelState> | undefined) ?? {}) };
const app = document.getElementById('app')!;

function update(patch: Partial<PanelState>, redraw: 'all' | 'selection' | 'table' = 'all'): void {
  state = { ...state, ...patch };
  api.setState(state);
  render(redraw);
}

const actions: AnalysisActions = {
  select: (layer) => {
    if (layer === state.selected) return;
    update({ selected: layer }, 'selection');
    api.postMessage({ type: 'selectLayer', layer });
  },
  sort: (key) => update({ sort: nextSort(state.sort, key) }, 'table'),
  filter: (text, flaggedOnly) => update({ filter: { text, flaggedOnly } }, 'table'),
  exportReport: (format) => api.postMessage({ type: 'exportReport', format, files: state.analysis?.report.summary.files }),
};
const reveal = (file: string): void => api.postMessage({ type: 'reveal', file });

function jobBanner(): HTMLElement | null {
  const j = state.job;
  if (!j?.running && !j?.queued.length) return null;
  const frac = j.running?.fraction;
  return h(
    'div',
    { class: 'job', id: 'job', role: 'status' },
    j.running ? h('span', {}, h('b', {}, j.running.title), j.running.message ? ` — ${j.running.message}` : '', frac !== undefined ? ` (${Math.round(frac * 100)}%)` : '') : h('span', {}, 'Waiting…'),
    j.queued.length ? h('span', { class: 'muted' }, ` · queued: ${j.queued.join(', ')}`) : '',
    h('button', { type: 'button', class: 'secondary', onclick: () => api.postMessage({ type: 'runCommand', command: 'qatLens.cancelJob' }) }, 'Cancel'),
  );
}

function tabs(): HTMLElement | null {
  const views = [state.analysis && 'analysis', state.comparison && 'map', state.precision && 'precision'].filter(Boolean);
  if (views.length < 2) return null;
  const tab = (id: PanelState['tab'], label: string): HTMLElement =>
    h('button', { type: 'button', role: 'tab', class: state.tab === id ? 'tab active' : 'tab', 'aria-selected': state.tab === id, onclick: () => update({ tab: id }) }, label);
  return h(
    'nav',
    { class: 'tabs', role: 'tablist' },
    state.analysis ? tab('analysis', 'Oscillation') : null,
    state.comparison ? tab('map', 'mAP comparison') : null,
    state.precision ? tab('precision', 'Precision plan') : null,
  );
}

/** The view to show: the chosen tab where it has data, else the first view that has. */
function currentView(): PanelState['tab'] | undefined {
  const has = { analysis: !!state.analysis, map: !!state.comparison, precision: !!state.precision };
  if (has[state.tab]) return state.tab;
  return (['analysis', 'map', 'precision'] as const).find((v) => has[v]);
}

const copyText = (text: string): void => {
  void navigator.clipboard?.writeText(text).catch(() => undefined);
};

function render(what: 'all' | 'selection' | 'table'): void {
  const theme = readTheme();
  const view = currentView();
  const showMap = view === 'map';
  const a = state.analysis;
  if (what !== 'all' && a && view === 'analysis') {
    // Cheap updates: keep the charts' DOM, redraw what the selection or table changed.
    const table = app.querySelector('section.layers');
    table?.replaceWith(tableView(state, actions));
    if (what === 'selection') void drawAnalysisCharts(app, a.report, state.selected, theme, actions.select);
    if (what === 'table') (app.querySelector('#filter-text') as HTMLInputElement | null)?.focus();
    return;
  }
  app.replaceChildren();
  const banner = jobBanner();
  if (banner) app.append(banner);
  const t = tabs();
  if (t) app.append(t);
  if (view === 'precision') {
    app.append(precisionView(state.precision!, reveal, copyText));
    void drawPrecisionCharts(app, state.precision!, theme);
  } else if (showMap) {
    app.append(mapTableView(state.comparison!, reveal), mapChartsView(state.comparison!));
    void drawMapCharts(app, state.comparison!, theme);
  } else if (a) {
    app.append(summaryView(a.report, a.engine, actions), analysisChartsView(), tableView(state, actions));
    void drawAnalysisCharts(app, a.report, state.selected, theme, actions.select);
  } else if (state.notice) {
    const n = state.notice;
    app.append(
      h(
        'section',
        { class: 'empty notice' },
        h('h1', {}, n.title),
        h('p', {}, n.text),
        n.action ? h('button', { type: 'button', onclick: () => api.postMessage({ type: 'runCommand', command: n.action!.command }) }, n.action.label) : '',
      ),
    );
  } else {
    app.append(
      h(
        'section',
        { class: 'empty' },
        h('h1', {}, 'QAT Lens'),
        h('p', {}, 'Right-click a checkpoint (.pt, .onnx, .safetensors) in the Explorer and choose ', h('b', {}, 'Analyze Oscillation'), ', or run it from the Command Palette.'),
      ),
    );
  }
}

window.addEventListener('message', (ev: MessageEvent<HostToPanel>) => {
  const m = ev.data;
  switch (m.type) {
    case 'analysis': {
      const keep = state.selected && m.report.layers.some((l) => l.name === state.selected);
      update({ notice: undefined, analysis: { report: m.report, engine: m.engine }, selected: keep ? state.selected : defaultSelection(m.report), tab: 'analysis' });
      break;
    }
    case 'comparison':
      update({ comparison: m.comparison, tab: 'map' });
      break;
    case 'precision':
      update({ precision: m.report, tab: 'precision' });
      break;
    case 'job': {
      state = { ...state, job: m.job };
      api.setState(state);
      const old = document.getElementById('job');
      const b = jobBanner();
      if (old && b) old.replaceWith(b);
      else if (old) old.remove();
      else if (b) app.prepend(b);
      break;
    }
    case 'select':
      actions.select(m.layer);
      break;
    case 'notice':
      update({ notice: m });
      break;
  }
});

// Theme switches change the body class: redraw the charts in the new colours.
new MutationObserver(() => render('all')).observe(document.body, { attributes: true, attributeFilter: ['class'] });
let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(resizeAll, 150);
});

render('all');
api.postMessage({ type: 'ready' });
