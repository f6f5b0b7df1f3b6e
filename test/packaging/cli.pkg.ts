// The packed CLI (npm run pack:cli) installs with `npm install -g` from its tarball into an empty
// prefix, offline, and there gives the same analysis and mAP as the repository's own build.
// Run by `npm run test:package`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const TGZ = join(ROOT, 'out', 'cli', `qat-lens-${pkg.version}-${process.platform}-${process.arch}.tgz`);
const EX = join(ROOT, 'examples', 'shapes');

test('the CLI package installs offline into an empty prefix and works there', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'qat-lens-cli-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const prefix = join(tmp, 'prefix');
  // An empty npm cache: the install must need nothing but the tarball.
  const install = spawnSync('npm', ['install', '-g', '--offline', '--prefix', prefix, '--cache', join(tmp, 'cache'), TGZ], { encoding: 'utf8' });
  assert.equal(install.status, 0, install.stderr);
  const bin = join(prefix, 'bin', 'qat-lens');
  const run = (...args: string[]) => spawnSync(bin, args, { encoding: 'utf8', cwd: tmp });

  const help = run('--help');
  assert.equal(help.status, 0, help.stderr);
  // The shapes generator's draw thread ships beside the CLI bundle (qat-lens example's large set).
  const pkgDir = join(prefix, 'lib', 'node_modules', 'qat-lens', 'dist');
  assert.ok(existsSync(join(pkgDir, 'shapesWorker.js')), `${pkgDir}/shapesWorker.js`);
  assert.match(help.stdout, /Usage: qat-lens <command>/);

  // analyze: the same report as the repository's CLI.
  const ckpt = join(EX, 'w4a4', 'epoch_28.pt');
  const installed = run('analyze', ckpt, '--json', join(tmp, 'a.json'), '--html', join(tmp, 'a.html'));
  assert.equal(installed.status, 0, installed.stderr);
  const local = spawnSync(process.execPath, [join(ROOT, 'bin', 'qat-lens.js'), 'analyze', ckpt, '--json', join(tmp, 'b.json')], { encoding: 'utf8' });
  assert.equal(local.status, 0, local.stderr);
  const a = JSON.parse(readFileSync(join(tmp, 'a.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(tmp, 'b.json'), 'utf8'));
  assert.ok(a.layers.length > 0);
  assert.deepEqual(a.layers, b.layers);
  assert.deepEqual(a.summary, b.summary);
  // The HTML report inlines the report script, Plotly and the styles from the package itself.
  const html = readFileSync(join(tmp, 'a.html'), 'utf8');
  assert.ok(html.length > 4e6, `HTML report of ${html.length} bytes`);
  assert.doesNotMatch(html, /<script src=|<link rel="stylesheet" href=/);

  // map: onnxruntime and sharp load from the package's own runtime modules.
  const map = run('map', join(EX, 'w4a4', 'qdq.onnx'), '--data', join(EX, 'data.yaml'), '--limit', '16', '--engine', 'cpu', '--json', join(tmp, 'm.json'));
  assert.equal(map.status, 0, map.stderr);
  const m = JSON.parse(readFileSync(join(tmp, 'm.json'), 'utf8'));
  const mapLocal = spawnSync(
    process.execPath,
    [join(ROOT, 'bin', 'qat-lens.js'), 'map', join(EX, 'w4a4', 'qdq.onnx'), '--data', join(EX, 'data.yaml'), '--limit', '16', '--engine', 'cpu', '--json', join(tmp, 'n.json')],
    { encoding: 'utf8' },
  );
  assert.equal(mapLocal.status, 0, mapLocal.stderr);
  const n = JSON.parse(readFileSync(join(tmp, 'n.json'), 'utf8'));
  assert.equal(m.images, 16);
  assert.ok(m.stats[0] > 0.3, `mAP@.5:.95 ${m.stats[0]}`);
  assert.deepEqual(m.stats, n.stats);
  assert.equal(m.detections, n.detections);

  // correct: QC's CPU shards start their threads from the package's gradShard.js (without it the
  // engine would fall back to one engine on the main thread) and load its onnxruntime there.
  assert.ok(existsSync(join(pkgDir, 'gradShard.js')), `${pkgDir}/gradShard.js`);
  const qc = run(
    'correct',
    join(EX, 'w4a4', 'qdq.onnx'),
    '--data',
    join(EX, 'data.yaml'),
    '--out',
    join(tmp, 'qc.onnx'),
    '--steps',
    '2',
    '--batch',
    '4',
    '--limit',
    '8',
    '--bootstrap',
    '0',
    '--engine',
    'cpu',
  );
  assert.equal(qc.status, 0, qc.stderr);
  if (availableParallelism() > 1) assert.match(qc.stdout + qc.stderr, /QC trains on onnxruntime cpu \(\d+ shards x 1 thread\)/);
  assert.ok(existsSync(join(tmp, 'qc.onnx')));
});
