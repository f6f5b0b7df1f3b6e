// Opens every per-platform .vsix that `npm run package` wrote and checks what it carries: its own
// platform's native binaries, of the right format and architecture, and nothing of the others; the
// manifest as the repository's; the size budget. Run by `npm run test:package` (after packaging).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import packaging from '../../tools/package/targets.json';
import { binaryKind } from './binaryKind';

const ROOT = join(__dirname, '..', '..');
const TARGETS: Record<string, { ort: string; sharp: string[]; format: string; arch: string }> = packaging.targets;
const MAX_VSIX_BYTES = packaging.maxVsixBytes;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const OUT = join(ROOT, 'out', 'vsix');
const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;

for (const [target, t] of Object.entries(TARGETS)) {
  test(`${target}.vsix carries its own platform's binaries only`, () => {
    const file = join(OUT, `qat-lens-${pkg.version}-${target}.vsix`);
    const size = statSync(file).size;
    assert.ok(size <= MAX_VSIX_BYTES, `${file}: ${(size / 2 ** 20).toFixed(1)} MB over the ${MAX_VSIX_BYTES / 2 ** 20} MB budget`);
    const zip = unzipSync(readFileSync(file));
    const names = Object.keys(zip);

    const vsixManifest = Buffer.from(zip['extension.vsixmanifest']).toString();
    assert.match(vsixManifest, new RegExp(`TargetPlatform="${target}"`));
    const manifest = JSON.parse(Buffer.from(zip['extension/package.json']).toString());
    for (const k of ['name', 'version', 'publisher', 'engines', 'main', 'activationEvents', 'extensionKind', 'contributes', 'capabilities']) {
      assert.deepEqual(manifest[k], pkg[k], `manifest ${k}`);
    }
    for (const f of [
      'dist/extension.js',
      'dist/worker.js',
      'dist/shapesWorker.js',
      'dist/gradShard.js',
      'dist/webview.js',
      'dist/report.js',
      'dist/plotly.min.js',
      'readme.md',
      'LICENSE.txt',
      'changelog.md',
    ]) {
      assert.ok(zip[`extension/${f}`], `${f} missing`);
    }
    assert.ok(!names.some((n) => n.endsWith('.map')), 'source maps are not shipped');

    // The runtime modules the worker loads, for this platform.
    const ortDir = `extension/dist/node_modules/onnxruntime-node/bin/napi-v6/${t.ort}/`;
    assert.ok(zip[`${ortDir}onnxruntime_binding.node`], 'onnxruntime binding missing');
    assert.ok(
      names.some((n) => n.startsWith(ortDir) && /(lib)?onnxruntime[\w.]*\.(so\.1|dylib|dll)$/.test(n)),
      'onnxruntime library missing',
    );
    for (const s of t.sharp)
      assert.ok(
        names.some((n) => n.startsWith(`extension/dist/node_modules/${s}/`)),
        `${s} missing`,
      );
    assert.ok(
      names.some((n) => /@img\/sharp-[\w-]+\/lib\/sharp-[\w.-]+\.node$/.test(n)),
      'sharp binding missing',
    );

    // Nothing of another platform.
    const otherOrt = names.filter((n) => n.includes('/napi-v6/') && !n.startsWith(ortDir) && NATIVE.test(n));
    assert.deepEqual(otherOrt, []);
    const sharpPkgs = new Set(names.map((n) => /node_modules\/(@img\/sharp-[\w-]+)\//.exec(n)?.[1]).filter(Boolean));
    assert.deepEqual([...sharpPkgs].sort(), [...t.sharp].sort());

    // Every native file is of this platform's format and architecture.
    const natives = names.filter((n) => NATIVE.test(n));
    assert.ok(natives.length >= 3, `only ${natives.length} native files`);
    for (const n of natives) {
      assert.deepEqual(binaryKind(zip[n]), { format: t.format, arch: t.arch }, n);
    }
  });
}
