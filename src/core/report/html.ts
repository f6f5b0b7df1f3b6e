// Self-contained HTML oscillation report: the report's JSON and Plotly inlined in one file that
// opens offline. Used by `qat-lens analyze --html` and the extension's "Export Report".
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { QatLensError } from '../errors';
import type { AnalysisReport } from '../analysis/types';
import { escapeHtml as esc, scriptJson } from './escape';

export interface HtmlReportOptions {
  title?: string;
  /** Plotly's minified bundle as text; found on disk when omitted (dist/plotly.min.js or node_modules). */
  plotlyJs?: string;
}

let cachedPlotly: string | undefined;

/** Finds plotly.min.js: beside the bundle (dist/), else in node_modules. */
export function loadPlotly(): string {
  if (cachedPlotly) return cachedPlotly;
  const candidates = [join(__dirname, 'plotly.min.js'), join(__dirname, '..', 'dist', 'plotly.min.js')];
  try {
    candidates.push(require.resolve('plotly.js-dist-min/plotly.min.js'));
  } catch {
    // not resolvable from here (bundled without node_modules); the other candidates remain
  }
  for (const c of candidates) {
    if (existsSync(c)) return (cachedPlotly = readFileSync(c, 'utf8'));
  }
  throw new QatLensError(`plotly.min.js not found (looked in ${candidates.join(', ')}); reinstall QAT Lens`);
}


/** The whole report page as one string. */
export function buildHtmlReport(report: AnalysisReport, opts: HtmlReportOptions = {}): string {
  const plotly = (opts.plotlyJs ?? loadPlotly()).replace(/<\/script/gi, '<\\/script');
  const s = report.summary;
  const title = opts.title ?? `QAT Lens oscillation report: ${s.model}`;
  const files = s.files.map((f) => `<code>${esc(basename(f))}</code>`).join(', ');
  const notes = s.notes.length ? `<ul class="notes">${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style>
<script>${plotly}</script>
</head><body>
<header>
<h1>${esc(title)}</h1>
<p class="meta">${files} · ${esc(s.format)} · ${s.bits.length ? `${s.bits.join('/')}-bit` : 'no quantized layers'} · δ = ${report.settings.delta}
 · <b class="${s.flaggedCount ? 'bad' : 'good'}">${s.flaggedCount} of ${s.layerCount} layers flagged</b>
 <span class="rule">(flag: C(δ) ≥ ${report.settings.minConcentration} and binomial p ≤ ${report.settings.maxPValue}, Bonferroni over layers)</span></p>
${notes}
</header>
<section><h2>Threshold concentration per layer</h2>
<p class="hint">C(δ) = share of in-range weights within δ of a rounding threshold, divided by 2δ (1 = even spread). Click a bar to see its histogram.</p>
<div id="conc" class="plot"></div></section>
<section><h2>Fractional positions of a layer</h2>
<p><label>Layer <select id="layer"></select></label> <span id="layerReason" class="reason"></span></p>
<div class="row"><div id="hist" class="plot half"></div><div id="chan" class="plot half"></div></div></section>
<section id="seqSection"><h2>Across checkpoints</h2>
<p class="hint" id="seqHint"></p>
<p><label>Scales of <select id="trajKind"><option value="layers">weights</option><option value="activations">activations</option></select></label></p>
<div class="row"><div id="traj" class="plot half"></div><div id="flips" class="plot half"></div></div></section>
<section id="emaSection"><h2>model vs ema</h2><div id="ema" class="plot"></div></section>
<section><h2>Layers</h2><div class="tablewrap"><table id="table"></table></div></section>
<footer>QAT Lens · quantities as defined in the project's design (u = W/s + z in float64, f = u − ⌊u⌋, d = |f − 0.5|)</footer>
<script id="report" type="application/json">${scriptJson(report)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1360px;padding:16px 24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:4px 0} h2{font-size:17px;margin:22px 0 4px;border-bottom:1px solid #e3e6ec;padding-bottom:4px}
.meta{margin:4px 0;color:#3b4252} .rule,.hint{color:#667085;font-size:12.5px} .bad{color:#c0392b} .good{color:#1e8449}
.notes{font-size:12.5px;color:#5b6270;margin:6px 0;padding-left:18px}
.plot{width:100%;height:360px} .row{display:flex;gap:12px;flex-wrap:wrap} .half{flex:1 1 560px;min-width:420px}
.reason{color:#3b4252;font-size:13px} select{font:inherit;padding:2px 4px;max-width:520px}
.tablewrap{max-height:520px;overflow:auto;border:1px solid #e3e6ec}
table{border-collapse:collapse;width:100%;font-size:12.5px} th,td{padding:3px 8px;border-bottom:1px solid #eef0f4;text-align:right;white-space:nowrap}
th{position:sticky;top:0;background:#f6f7f9;cursor:pointer} td.l,th.l{text-align:left} td.r,th.r{white-space:normal;text-align:left;min-width:320px}
tr.flag td{background:#fdecea} tr.sel td{outline:1px solid #2e86c1} tr{cursor:pointer}
footer{margin:24px 0 8px;color:#8a909c;font-size:12px}`;

// Runs in the browser. Reads the embedded report; draws with the inlined Plotly.
const PAGE_SCRIPT = String.raw`
(function(){
var R = JSON.parse(document.getElementById('report').textContent);
var L = R.layers, delta = R.settings.delta, cfg = {displaylogo:false, responsive:true, displayModeBar:'hover'};
var RED = '#c0392b', GREY = '#8fa3bf', BLUE = '#2e86c1';
function fmt(x, d){ return x === null || x === undefined || Number.isNaN(x) ? 'N/A' : Number(x).toFixed(d); }
function pct(x){ return x === null || x === undefined ? 'N/A' : (100*x).toFixed(1) + '%'; }
function sci(x){ return x === null || x === undefined ? 'N/A' : (x >= 1e-3 ? x.toPrecision(2) : x.toExponential(1)); }
var many = L.length > 60;

// 1. concentration per layer
var idx = L.map(function(_, i){ return i; });
Plotly.newPlot('conc', [{
  type:'bar', x: idx, y: L.map(function(l){ return l.concentration === null ? 0 : l.concentration; }),
  marker:{color: L.map(function(l){ return l.flagged ? RED : l.hasLatent ? GREY : '#d5d9e0'; })},
  text: L.map(function(l){ return l.name; }),
  customdata: L.map(function(l){ return [l.flagged ? 'FLAGGED' : '', l.reason]; }),
  textposition:'none', hovertemplate:'%{text}<br>C = %{y:.2f} %{customdata[0]}<br>%{customdata[1]}<extra></extra>', name:'C(δ)'
}], {
  margin:{t:10,r:10,b: many ? 40 : 130,l:55}, bargap:0.15,
  xaxis:{tickvals: many ? [] : idx, ticktext: L.map(function(l){ return l.name; }), tickangle:-60, title: many ? {text:'layers in model order (hover for names)'} : undefined},
  yaxis:{title:{text:'C(δ = ' + delta + ')'}, rangemode:'tozero'},
  shapes:[hline(1, '#1e8449', 'dot'), hline(R.settings.minConcentration, RED, 'dash')],
  annotations:[{xref:'paper', x:1, y:1, yanchor:'top', xanchor:'right', text:'even spread (C = 1)', showarrow:false, font:{color:'#1e8449', size:11}},
    {xref:'paper', x:0, y:R.settings.minConcentration, yanchor:'bottom', xanchor:'left', text:'flag level', showarrow:false, font:{color:RED, size:11}}]
    .concat(L.length <= 60 ? L.map(function(l, i){ return l.concentration === null ? {x:i, y:0, yanchor:'bottom', text:'N/A', showarrow:false, font:{size:10, color:'#667085'}} : null; }).filter(Boolean) : [])
    .concat(L.length && L.every(function(l){ return l.concentration === null; }) ? [{xref:'paper', yref:'paper', x:0.5, y:0.5, showarrow:false, text:'No layer stores latent weights (integers only): C(δ) is N/A; compare checkpoints for flips'}] : [])
}, cfg);
function hline(y, color, dash){ return {type:'line', xref:'paper', x0:0, x1:1, y0:y, y1:y, line:{color:color, width:1.5, dash:dash}}; }
document.getElementById('conc').on('plotly_click', function(e){ select(e.points[0].x); });

// 2. selected layer: histogram of f vs the even line, and per-channel C
var sel = document.getElementById('layer');
L.forEach(function(l, i){ var o = document.createElement('option'); o.value = i; o.textContent = (l.flagged ? '⚑ ' : '') + l.name + (l.concentration === null ? ' (N/A)' : ' (C = ' + l.concentration.toFixed(2) + ')'); sel.appendChild(o); });
sel.onchange = function(){ select(+sel.value); };
function select(i){
  var l = L[i]; if (!l) return; sel.value = i;
  document.getElementById('layerReason').textContent = (l.flagged ? 'Flagged: ' : '') + l.reason;
  var rows = document.querySelectorAll('#table tbody tr'); rows.forEach(function(r){ r.classList.toggle('sel', +r.dataset.i === i); });
  if (!l.histogram) {
    Plotly.react('hist', [], {annotations:[{text:'N/A: this layer stores integer weights only (no latent weights), so it has no fractional positions', showarrow:false, xref:'paper', yref:'paper', x:0.5, y:0.5}], xaxis:{visible:false}, yaxis:{visible:false}, margin:{t:30}}, cfg);
    Plotly.react('chan', [], {xaxis:{visible:false}, yaxis:{visible:false}}, cfg);
    return;
  }
  var n = l.inRange || 1, centers = l.histogram.map(function(_, b){ return (b + 0.5) / 20; });
  Plotly.react('hist', [
    {type:'bar', x:centers, y:l.histogram.map(function(c){ return c / n; }), width:0.048, marker:{color: l.flagged ? RED : BLUE}, name:'weights', hovertemplate:'f in [%{customdata:.2f}, +0.05): %{y:.3f}<extra></extra>', customdata:centers.map(function(c){ return c - 0.025; })},
    {type:'scatter', mode:'lines', x:[0,1], y:[0.05,0.05], line:{color:'#1e8449', dash:'dot', width:2}, name:'even spread'}
  ], {
    title:{text: l.name + ': fractional position f = u − ⌊u⌋', font:{size:13}, x:0.01, xanchor:'left'}, margin:{t:40,r:10,b:45,l:55}, showlegend:true, legend:{x:0.01, y:0.99},
    xaxis:{title:{text:'f (levels at 0 and 1, threshold at 0.5)'}, range:[0,1], dtick:0.1},
    yaxis:{title:{text:'share of in-range weights per bin'}, rangemode:'tozero'},
    shapes:[{type:'rect', xref:'x', yref:'paper', x0:0.5-delta, x1:0.5+delta, y0:0, y1:1, fillcolor:'rgba(192,57,43,0.08)', line:{width:0}},
      {type:'line', xref:'x', yref:'paper', x0:0.5, x1:0.5, y0:0, y1:1, line:{color:RED, width:1, dash:'dash'}}]
  }, cfg);
  var pc = l.perChannel, ch = pc.concentration.map(function(_, c){ return c; });
  Plotly.react('chan', [{type:'bar', x:ch, y:pc.concentration, marker:{color:BLUE}, hovertemplate:'channel %{x}: C = %{y:.2f}<extra></extra>'}], {
    title:{text:'C(δ) per channel (axis ' + pc.axis + ', ' + ch.length + ' channels)', font:{size:13}, x:0.01, xanchor:'left'}, margin:{t:40,r:10,b:45,l:55},
    xaxis:{title:{text:'channel'}}, yaxis:{title:{text:'C(δ)'}, rangemode:'tozero'}, shapes:[hline(1, '#1e8449', 'dot')]
  }, cfg);
}

// 3. across checkpoints
var S = R.sequence;
if (!S) {
  document.getElementById('seqHint').textContent = 'One checkpoint: pass several checkpoints of one run (epochs) to see flips, reversals and scale trajectories.';
  document.getElementById('traj').style.display = 'none'; document.getElementById('flips').style.display = 'none';
  document.getElementById('trajKind').parentNode.style.display = 'none';
} else {
  var labels = S.order.map(function(o){ return o.epoch !== null ? 'epoch ' + o.epoch : o.file.split(/[\\/]/).pop(); });
  document.getElementById('seqHint').textContent = S.order.length + ' checkpoints ordered by ' + S.orderedBy + '. Scales relative to the first checkpoint; flips = share of integer states that change.' +
    (S.partial.length ? ' In some checkpoints only: ' + S.partial.map(function(p){ return p.name; }).join(', ') + '.' : '');
  var drawTraj = function(){
    var kind = document.getElementById('trajKind').value, items = S[kind];
    var flagged = {}; L.forEach(function(l){ flagged[l.name] = l.flagged; });
    Plotly.react('traj', items.map(function(it){
      var s0 = it.scaleTrajectory[0];
      return {type:'scatter', mode:'lines+markers', x:labels, y:it.scaleTrajectory.map(function(s){ return s / s0; }), name:it.name,
        line:{width: flagged[it.name] ? 2.5 : 1, color: flagged[it.name] ? RED : undefined}, opacity: flagged[it.name] ? 1 : 0.6,
        hovertemplate: it.name + '<br>%{x}: s/s₀ = %{y:.4f}<br>CV = ' + fmt(it.scaleCV, 4) + '<extra></extra>'};
    }), {title:{text:(kind === 'layers' ? 'Weight' : 'Activation') + ' scale trajectories (s / s at the first checkpoint)', font:{size:13}, x:0.01, xanchor:'left'}, showlegend: items.length <= 12,
      margin:{t:40,r:10,b:45,l:55}, yaxis:{title:{text:'s / s₀'}}}, cfg);
  };
  document.getElementById('trajKind').onchange = drawTraj; drawTraj();
  var sl = S.layers, sx = sl.map(function(_, i){ return i; });
  var mean = function(a){ return a.reduce(function(x, y){ return x + y; }, 0) / (a.length || 1); };
  Plotly.newPlot('flips', [
    {type:'bar', x:sx, y:sl.map(function(l){ return mean(l.flipFractions); }), name:'mean flip fraction per transition', marker:{color:BLUE}, text:sl.map(function(l){ return l.name; }), textposition:'none', hovertemplate:'%{text}<br>flips: %{y:.4f}<extra></extra>'},
    {type:'bar', x:sx, y:sl.map(function(l){ return l.reversalShare; }), name:'share of weights with ≥ 1 reversal', marker:{color:'#e67e22'}, text:sl.map(function(l){ return l.name; }), textposition:'none', hovertemplate:'%{text}<br>reversal share: %{y:.4f}<extra></extra>'}
  ], {title:{text:'Integer-state flips and reversals per layer', font:{size:13}, x:0.01, xanchor:'left'}, barmode:'group', margin:{t:40,r:10,b:45,l:55}, legend:{orientation:'h', x:0, y:-0.12, yanchor:'top'},
    xaxis:{showticklabels:false}, yaxis:{rangemode:'tozero'}}, cfg);
}

// 4. model vs ema
var E = R.modelVsEma;
if (!E) document.getElementById('emaSection').style.display = 'none';
else {
  var e = E[E.length - 1];
  Plotly.newPlot('ema', [{type:'bar', x:e.layers.map(function(_, i){ return i; }), y:e.layers.map(function(l){ return l.flipFraction; }), text:e.layers.map(function(l){ return l.name; }), textposition:'none', marker:{color:'#8e44ad'},
    hovertemplate:'%{text}<br>model vs ema flips: %{y:.4f}<extra></extra>'}],
    {title:{text:'Share of integer states that differ between model and ema (' + e.file.split(/[\\/]/).pop() + '; all layers: ' + (100*e.flipFraction).toFixed(2) + '%)', font:{size:13}, x:0.01, xanchor:'left'},
     margin:{t:40,r:10,b:45,l:55}, xaxis:{showticklabels:false, title:{text:'layers (hover for names)'}}, yaxis:{rangemode:'tozero'}}, cfg);
}

// 5. table
var cols = [['name','layer','l'],['bits','bits'],['granularity','granularity','l'],['count','weights'],['clippedFraction','clipped'],['nearThresholdFraction','NT(δ)'],['concentration','C(δ)'],['meanDistance','mean d'],['z','z'],['pValueAdjusted','p (adj.)'],['flagged','flag'],['reason','reason','r']];
var table = document.getElementById('table'), order = idx.slice(), sortKey = null, sortDir = 1;
function cell(l, k){
  var v = l[k];
  if (k === 'clippedFraction' || k === 'nearThresholdFraction') return pct(v);
  if (k === 'concentration') return fmt(v, 2);
  if (k === 'meanDistance') return fmt(v, 4);
  if (k === 'z') return fmt(v, 1);
  if (k === 'pValueAdjusted') return v === 0 ? '1e' + Math.round(l.log10PValueAdjusted) : sci(v);
  if (k === 'flagged') return v ? '⚑' : '';
  if (k === 'count') return v.toLocaleString('en');
  return String(v);
}
function drawTable(){
  var h = '<thead><tr>' + cols.map(function(c){ return '<th class="' + (c[2] || '') + '" data-k="' + c[0] + '">' + c[1] + '</th>'; }).join('') + '</tr></thead><tbody>';
  order.forEach(function(i){ var l = L[i]; h += '<tr data-i="' + i + '" class="' + (l.flagged ? 'flag' : '') + '">' + cols.map(function(c){ return '<td class="' + (c[2] || '') + '">' + escapeHtml(cell(l, c[0])) + '</td>'; }).join('') + '</tr>'; });
  table.innerHTML = h + '</tbody>';
  table.querySelectorAll('th').forEach(function(th){ th.onclick = function(){ var k = th.dataset.k; sortDir = sortKey === k ? -sortDir : -1; sortKey = k;
    order.sort(function(a, b){ var x = L[a][k], y = L[b][k]; if (x === y) return a - b; if (x === null) return 1; if (y === null) return -1; return (x < y ? -1 : 1) * sortDir; }); drawTable(); }; });
  table.querySelectorAll('tbody tr').forEach(function(tr){ tr.onclick = function(){ select(+tr.dataset.i); window.scrollTo({top: document.getElementById('layer').getBoundingClientRect().top + window.scrollY - 60}); }; });
}
function escapeHtml(s){ return s.replace(/[&<>"]/g, function(c){ return '&#' + c.charCodeAt(0) + ';'; }); }
drawTable();
// start on the most concentrated layer
var best = -1; L.forEach(function(l, i){ if (l.concentration !== null && (best < 0 || l.concentration > L[best].concentration)) best = i; });
if (L.length) select(best < 0 ? 0 : best);
})();
`;
