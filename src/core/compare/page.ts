// Self-contained offline HTML for the comparison: its own page (qat-lens compare --html), or a
// section added to the analysis report page (the example job's report.html). Plotly is inlined
// by the report's loadPlotly, so both pages find it the same way.
import { loadPlotly } from '../report/html';

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1360px;padding:16px 24px;color:#1d2330}
h1{font-size:22px;margin:4px 0} h2{font-size:17px;margin:22px 0 4px;border-bottom:1px solid #e3e6ec;padding-bottom:4px} h3{font-size:14px;margin:14px 0 2px}
table.compare,table.probe{border-collapse:collapse;margin:8px 0;font-size:13px;width:auto} table.compare tr,table.probe tr{cursor:default} table.compare td,table.compare th,table.probe td,table.probe th{border-bottom:1px solid #eef0f4;padding:3px 10px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} .plot{width:100%;height:400px} .notes{font-size:12.5px;color:#5b6270} .noise{color:#8a5a00;font-size:12px}`;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A whole page around `body` (HTML sections). */
export function htmlPage(title: string, body: string): string {
  const plotly = loadPlotly().replace(/<\/script/gi, '<\\/script');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<style>${CSS}</style>\n<script>${plotly}</script>\n</head><body>\n<h1>${esc(title)}</h1>\n${body}\n</body></html>\n`;
}

/** Sections added to an existing report page (one that already loads Plotly), before its footer. */
export function addSections(page: string, sections: string): string {
  const block = `<style>${CSS.replace(/^body\{[^}]*\}\n?/, '')}</style>\n${sections}\n`;
  const at = page.lastIndexOf('<footer');
  const i = at >= 0 ? at : page.lastIndexOf('</body>');
  return i >= 0 ? page.slice(0, i) + block + page.slice(i) : page + block;
}
