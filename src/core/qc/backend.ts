// Picks the TensorFlow.js backend QC trains on: WebGPU (through the `webgpu` npm package: Dawn on
// Vulkan), tfjs-node / tfjs-node-gpu when the user has installed one, else the pure-JS CPU backend.
// The recipe for WebGPU in Node is in notes/gpu-check.md: set the `webgpu` globals and a writable
// `navigator` with `gpu`, THEN import tfjs-backend-webgpu (it registers only if navigator.gpu exists).
import * as tf from '@tensorflow/tfjs-core';
// A named import (used below): esbuild drops bare imports of packages marked side-effect free, and
// this module registers the 'cpu' backend when it loads.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
// Gradients are registered by the tfjs union package; we import core directly, so register them here.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { registerWasmExtras } from './wasmKernels';

export type TrainingBackend = 'auto' | 'webgpu' | 'tensorflow' | 'cpu';
// 'cpu' means the CPU backends: tfjs-backend-wasm (XNNPACK convolutions) where it starts, else the
// pure-JS 'cpu' backend. The wasm backend lacks UnsortedSegmentSum (the gradient of Gather, used by
// the loss); wasmKernels.ts adds it.
export interface BackendChoice {
  /** tfjs backend name now active: 'webgpu', 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  /** Why the preferred ones were not used (empty when the first choice ran). */
  notes: string[];
}

// Silence tfjs's "install tfjs-node" banner and debug checks: the engine reports the backend itself.
tf.env().set('PROD', true);

let current: Promise<BackendChoice> | undefined;
let currentPref: TrainingBackend | undefined;

/** Activate the best backend allowed by `pref` (cached per process: tfjs backends are global). */
export async function selectBackend(pref: TrainingBackend = 'auto'): Promise<BackendChoice> {
  if (current && currentPref === pref) {
    const c = await current;
    if (tf.getBackend() !== c.name) await tf.setBackend(c.name); // someone switched meanwhile
    return c;
  }
  currentPref = pref;
  current = choose(pref);
  return current;
}

async function choose(pref: TrainingBackend): Promise<BackendChoice> {
  const notes: string[] = [];
  const order: TrainingBackend[] = pref === 'auto' ? ['webgpu', 'tensorflow', 'cpu'] : [pref, ...(pref === 'cpu' ? [] : ['cpu' as const])];
  for (const b of order) {
    try {
      if (b === 'webgpu' && (await tryWebGpu())) return { name: 'webgpu', notes };
      if (b === 'tensorflow' && (await tryTfNode())) return { name: 'tensorflow', notes };
      if (b === 'cpu') {
        if (process.env.QAT_LENS_TFJS_CPU !== 'js') {
          try {
            if (await tryWasm()) return { name: 'wasm', notes };
          } catch (err) {
            notes.push(`wasm: ${(err as Error).message.split('\n')[0]}`);
          }
        }
        if (!tf.findBackendFactory('cpu')) throw new Error(`tfjs-backend-cpu ${version_cpu} did not register`);
        await tf.setBackend('cpu');
        await tf.ready();
        return { name: 'cpu', notes };
      }
      notes.push(b === 'webgpu' ? 'WebGPU: no GPU adapter found' : 'tfjs-node: not installed');
    } catch (err) {
      notes.push(`${b}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${notes.join('; ')})`);
}

const req = createRequire(__filename);

/** Dawn needs the Vulkan loader on Linux; without it, skip WebGPU quietly (Dawn would print a warning). */
function vulkanLoaderMissing(): boolean {
  if (process.platform !== 'linux') return false;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu'];
  return !dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

async function tryWebGpu(): Promise<boolean> {
  if (vulkanLoaderMissing()) throw new Error('no Vulkan loader (libvulkan.so.1) on this machine');
  let webgpu: { create: (o: string[]) => unknown; globals: Record<string, unknown> };
  try {
    webgpu = req('webgpu');
  } catch {
    throw new Error('the optional `webgpu` package is not installed');
  }
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    Object.assign(globalThis, webgpu.globals);
    const gpu = webgpu.create([]);
    Object.defineProperty(globalThis, 'navigator', {
      value: Object.assign(Object.create(g.navigator ?? {}), { gpu }), configurable: true, writable: true,
    });
  }
  const adapter = await (g.navigator!.gpu as { requestAdapter(): Promise<unknown> }).requestAdapter();
  if (!adapter) return false;
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) return false;
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  return ok && tf.getBackend() === 'webgpu';
}

async function tryWasm(): Promise<boolean> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The .wasm binaries: beside the bundle (dist/) when packaged, else in node_modules.
  let dir: string | undefined;
  if (existsSync(join(__dirname, 'tfjs-backend-wasm-simd.wasm'))) dir = __dirname;
  else {
    try {
      dir = join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    } catch {
      throw new Error('the tfjs wasm binaries are not found');
    }
  }
  wasm.setWasmPaths(dir.endsWith(sep) ? dir : dir + sep);
  registerWasmExtras();
  if (!(await tf.setBackend('wasm'))) return false;
  await tf.ready();
  return tf.getBackend() === 'wasm';
}

async function tryTfNode(): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      req.resolve(pkg);
    } catch {
      continue;
    }
    // tfjs-node brings its own tfjs-core copy; it registers 'tensorflow' there. Only when it shares
    // ours (same install) can our kernels run on it.
    req(pkg);
    if (tf.findBackendFactory('tensorflow') && (await tf.setBackend('tensorflow'))) return true;
    throw new Error(`${pkg} is installed but registered no backend with this tfjs-core`);
  }
  return false;
}
