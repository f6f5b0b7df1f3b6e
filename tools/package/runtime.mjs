// The runtime modules the bundles keep external (onnxruntime-node, sharp), staged for ONE platform
// into a node_modules folder placed beside the bundles (dist/node_modules): the .vsix and the CLI
// package both carry this tree, so neither has npm dependencies to install, and neither carries
// another platform's binaries. Per-platform packages come from the npm registry (cached in
// ~/.cache/qat-lens-package).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..', '..');
export const { targets: TARGETS } = JSON.parse(readFileSync(join(import.meta.dirname, 'targets.json'), 'utf8'));
export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const cache = process.env.QAT_LENS_PACKAGE_CACHE ?? join(homedir(), '.cache', 'qat-lens-package');

/** The targets named by a --target value (comma list, 'all'; default: this machine's platform). */
export function targetList(value) {
  const list = !value ? [`${process.platform}-${process.arch}`] : value === 'all' ? Object.keys(TARGETS) : value.split(',');
  for (const t of list) if (!TARGETS[t]) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);
  return list;
}

/** A package from the npm registry, unpacked once into the cache; returns its folder. */
function fetchPackage(name, version) {
  const dir = join(cache, `${name.replace('/', '+')}@${version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const out = execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', join(tmp, out), '-C', tmp, '--strip-components=1']);
  rmSync(join(tmp, out));
  renameSync(tmp, dir);
  return dir;
}

/** Copies `parts` (files or folders, relative) of a package folder into dest. */
function copyParts(src, dest, parts) {
  for (const p of parts) {
    if (!existsSync(join(src, p))) throw new Error(`${src}: missing ${p}`);
    cpSync(join(src, p), join(dest, p), { recursive: true });
  }
}

/**
 * npm packages cannot hold symlinks, so onnxruntime's macOS folder carries its library twice
 * (libonnxruntime.1.dylib and libonnxruntime.1.30.0.dylib, 45 MB each): keep the one the binding
 * loads (its @rpath reference).
 */
function pruneDylibs(dir) {
  const names = readdirSync(dir).filter((f) => f.endsWith('.dylib'));
  if (!names.length) return;
  const refs = new Set(
    [
      ...readFileSync(join(dir, 'onnxruntime_binding.node'))
        .toString('latin1')
        .matchAll(/@rpath\/([\w.+-]+\.dylib)/g),
    ].map((m) => m[1]),
  );
  if (!names.some((n) => refs.has(n))) throw new Error(`${dir}: the binding loads ${[...refs].join(', ')}, not found`);
  for (const n of names) if (!refs.has(n)) rmSync(join(dir, n));
}

/** Writes the runtime modules of `target` into the node_modules folder `nm`. */
export function stageRuntime(target, nm) {
  const t = TARGETS[target];
  // onnxruntime: the JS API and this platform's binding folder only.
  const ort = t.ortVersion ? fetchPackage('onnxruntime-node', t.ortVersion) : join(root, 'node_modules', 'onnxruntime-node');
  const ortCommon = t.ortVersion ? fetchPackage('onnxruntime-common', t.ortVersion) : join(root, 'node_modules', 'onnxruntime-common');
  const bin = join(nm, 'onnxruntime-node', 'bin', 'napi-v6', t.ort);
  copyParts(ort, join(nm, 'onnxruntime-node'), ['package.json', 'dist', 'lib', `bin/napi-v6/${t.ort}`]);
  copyParts(ortCommon, join(nm, 'onnxruntime-common'), ['package.json', 'dist']);
  pruneDylibs(bin);
  // DirectML.dll (18.5 MB) is delay-loaded by onnxruntime.dll: only the DirectML engine, which QAT
  // Lens never requests, loads it.
  if (t.ort.startsWith('win32')) rmSync(join(bin, 'DirectML.dll'));
  // sharp: its JS, its small pure-JS dependencies, and this platform's prebuilt packages.
  copyParts(join(root, 'node_modules', 'sharp'), join(nm, 'sharp'), ['package.json', 'LICENSE', 'dist']);
  for (const dep of ['@img/colour', 'detect-libc', 'semver']) cpSync(join(root, 'node_modules', dep), join(nm, dep), { recursive: true });
  const sharpOpt = JSON.parse(readFileSync(join(root, 'node_modules', 'sharp', 'package.json'), 'utf8')).optionalDependencies;
  for (const name of t.sharp) {
    if (!sharpOpt[name]) throw new Error(`sharp has no optional package ${name}`);
    cpSync(fetchPackage(name, sharpOpt[name]), join(nm, name), { recursive: true });
  }
}

/** Copies the named bundles (and any .wasm they load) from dist/ into `dest`. */
export function copyBundles(dest, names) {
  mkdirSync(dest, { recursive: true });
  for (const f of names) {
    if (!existsSync(join(root, 'dist', f))) throw new Error(`dist/${f} is missing: run npm run build first`);
    cpSync(join(root, 'dist', f), join(dest, f));
  }
  for (const f of readdirSync(join(root, 'dist')).filter((f) => f.endsWith('.wasm'))) cpSync(join(root, 'dist', f), join(dest, f));
}
