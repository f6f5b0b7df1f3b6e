#!/usr/bin/env node
// Packs the command-line tool as an npm package per platform (out/cli/qat-lens-<version>-<target>.tgz):
// the launcher, the CLI bundle, the report script, styles and Plotly bundle its HTML reports inline, and that platform's
// runtime modules (runtime.mjs) under dist/node_modules. It has no npm dependencies, so
// `npm install -g` of the tarball needs no registry; `os`/`cpu` make npm refuse another platform.
// Nothing else of the extension (host, panel, icons) ships in it.
//
//   node tools/package/cli.mjs [--target all|linux-x64,...]   (after npm run build; default: this machine)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { copyBundles, pkg, root, stageRuntime, targetList } from './runtime.mjs';

const { values } = parseArgs({ options: { target: { type: 'string' } } });
const out = join(root, 'out', 'cli');
mkdirSync(out, { recursive: true });

for (const target of targetList(values.target)) {
  const stage = join(out, 'stage', target);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'bin'), { recursive: true });
  const [os, cpu] = target.split('-');
  const manifest = {
    name: pkg.name,
    version: pkg.version,
    description: 'QAT Lens on the command line: oscillation analysis, soft-rounding probes, Quantization Correction and COCO mAP for quantization-aware-trained YOLO detectors.',
    license: pkg.license,
    keywords: pkg.keywords,
    engines: { node: pkg.engines.node },
    os: [os],
    cpu: [cpu],
    bin: { 'qat-lens': 'bin/qat-lens.js' },
    files: ['bin', 'dist', 'media', 'README.md', 'LICENSE'],
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(join(root, 'bin', 'qat-lens.js'), join(stage, 'bin', 'qat-lens.js'));
  for (const f of ['README.md', 'LICENSE']) cpSync(join(root, f), join(stage, f));
  copyBundles(join(stage, 'dist'), ['cli.js', 'shapesWorker.js', 'gradShard.js', 'report.js', 'plotly.min.js']);
  // The HTML reports inline the panel's styles.
  mkdirSync(join(stage, 'media'));
  for (const f of ['report.css', 'panel.css']) cpSync(join(root, 'media', f), join(stage, 'media', f));
  stageRuntime(target, join(stage, 'dist', 'node_modules'));
  const tgz = execFileSync('npm', ['pack', '--pack-destination', out, '--silent'], { cwd: stage, encoding: 'utf8' }).trim().split('\n').pop();
  const file = join(out, `${pkg.name}-${pkg.version}-${target}.tgz`);
  renameSync(join(out, tgz), file);
  console.log(file);
}
rmSync(join(out, 'stage'), { recursive: true, force: true });
