// Chart colours from VS Code's theme variables, so charts follow light, dark and high-contrast themes.
export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  accent: string;
  flagged: string;
  ok: string;
  font: string;
  highContrast: boolean;
  series: string[];
}

export function readTheme(el: HTMLElement = document.body): Theme {
  const css = getComputedStyle(el);
  const v = (name: string, dflt: string): string => css.getPropertyValue(name).trim() || dflt;
  const hc = el.classList.contains('vscode-high-contrast') || el.classList.contains('vscode-high-contrast-light');
  const fg = v('--vscode-editor-foreground', '#333');
  return {
    fg,
    muted: v('--vscode-descriptionForeground', '#777'),
    grid: hc ? v('--vscode-contrastBorder', fg) : v('--vscode-editorWidget-border', v('--vscode-panel-border', '#8884')),
    accent: v('--vscode-charts-blue', v('--vscode-focusBorder', '#3794ff')),
    flagged: v('--vscode-charts-red', v('--vscode-errorForeground', '#e51400')),
    ok: v('--vscode-charts-green', '#388a34'),
    font: v('--vscode-font-family', 'sans-serif'),
    highContrast: hc,
    series: [
      v('--vscode-charts-foreground', fg),
      v('--vscode-charts-orange', '#d18616'),
      v('--vscode-charts-green', '#388a34'),
      v('--vscode-charts-purple', '#652d90'),
      v('--vscode-charts-yellow', '#bf8803'),
      v('--vscode-charts-blue', '#1a85ff'),
    ],
  };
}
