// Bundles the entry points (report.js: the HTML reports' script, inlined into each report). Native and optional modules stay external: they are loaded
// from node_modules at run time (the .vsix ships them), so the bundle never inlines a .node file.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const external = ['vscode', 'onnxruntime-node', 'sharp', 'webgpu'];
const common = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  legalComments: 'none',
};

const builds = [
  {
    ...common,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external,
    entryPoints: {
      extension: 'src/host/extension.ts',
      worker: 'src/worker/main.ts',
      cli: 'src/cli/main.ts',
      shapesWorker: 'src/core/data/shapes/drawThread.ts',
      gradShard: 'src/core/train/shardThread.ts',
    },
    outdir: 'dist',
  },
  { ...common, platform: 'browser', format: 'iife', target: 'es2022', minify: !watch, entryPoints: { webview: 'webview/main.ts', report: 'webview/report.ts' }, outdir: 'dist' },
];

mkdirSync('dist', { recursive: true });
// Plotly is loaded by the webview from the extension's own files (no CDN): copy the minified bundle.
cpSync('node_modules/plotly.js-dist-min/plotly.min.js', 'dist/plotly.min.js');

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
