// The global Plotly from dist/plotly.min.js (loaded by its own <script nonce> tag before this bundle).
import type { Figure } from './charts';

interface PlotlyElement extends HTMLElement {
  on(event: 'plotly_click', cb: (e: { points: { x: unknown; data: { name?: string } }[] }) => void): void;
}
interface PlotlyGlobal {
  react(el: HTMLElement, data: unknown[], layout: unknown, config: unknown): Promise<PlotlyElement>;
  purge(el: HTMLElement): void;
  Plots: { resize(el: HTMLElement): void };
}
declare const Plotly: PlotlyGlobal | undefined;

const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['sendDataToCloud', 'lasso2d', 'select2d'] };

export const plotlyLoaded = (): boolean => typeof Plotly !== 'undefined';

/** Draws (or redraws) a figure; `onPick` gets the clicked x (bars) or trace name (lines). */
export async function draw(el: HTMLElement, fig: Figure, onPick?: (x: string, trace?: string) => void): Promise<void> {
  if (typeof Plotly === 'undefined') {
    el.textContent = 'Charts unavailable: dist/plotly.min.js did not load.';
    return;
  }
  const gd = await Plotly.react(el, fig.data, fig.layout, CONFIG);
  if (onPick && !el.dataset.bound) {
    el.dataset.bound = '1';
    gd.on('plotly_click', (e) => {
      const p = e.points[0];
      if (p) onPick(String(p.x), p.data.name);
    });
  }
}

export function resizeAll(): void {
  if (typeof Plotly === 'undefined') return;
  document.querySelectorAll<HTMLElement>('.js-plotly-plot').forEach((el) => Plotly!.Plots.resize(el));
}
