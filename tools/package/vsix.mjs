#!/usr/bin/env node
// Builds one .vsix per platform that VS Code's marketplace supports for native code. Each carries
// only its own platform's native parts (runtime.mjs), under dist/node_modules beside the bundles,
// so vsce runs with --no-dependencies and nothing of the development tree can slip in.
//
//   node tools/package/vsix.mjs [--target all|linux-x64,...] [--out out/vsix]   (after npm run build)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { copyBundles, pkg, root, stageRuntime, targetList } from './runtime.mjs';

const { values } = parseArgs({ options: { target: { type: 'string', default: 'all' }, out: { type: 'string', default: 'out/vsix' } } });
const outDir = resolve(root, values.out);
mkdirSync(outDir, { recursive: true });

function stage(target) {
  const dir = join(outDir, 'stage', target);
  rmSync(dir, { recursive: true, force: true });
  // The manifest, without what only development or the CLI package needs.
  const manifest = { ...pkg };
  for (const k of ['scripts', 'devDependencies', 'dependencies', 'optionalDependencies', 'files', 'bin']) delete manifest[k];
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md']) cpSync(join(root, f), join(dir, f));
  cpSync(join(root, 'media'), join(dir, 'media'), { recursive: true });
  mkdirSync(join(dir, 'docs'));
  for (const f of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) cpSync(join(root, 'docs', f), join(dir, 'docs', f));
  copyBundles(join(dir, 'dist'), ['extension.js', 'worker.js', 'shapesWorker.js', 'gradShard.js', 'webview.js', 'report.js', 'plotly.min.js']);
  stageRuntime(target, join(dir, 'dist', 'node_modules'));
  writeFileSync(join(dir, '.vscodeignore'), '**/*.map\n**/*.d.ts\n**/*.d.mts\n**/*.d.cts\n');
  return dir;
}

const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
for (const target of targetList(values.target)) {
  const file = join(outDir, `qat-lens-${pkg.version}-${target}.vsix`);
  execFileSync(process.execPath, [vsce, 'package', '--target', target, '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', file], {
    cwd: stage(target),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
rmSync(join(outDir, 'stage'), { recursive: true, force: true });
