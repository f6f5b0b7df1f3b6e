// Picks the TensorFlow.js backend QC trains on: WebGPU (through the `webgpu` npm package: Dawn on
// Vulkan), tfjs-node / tfjs-node-gpu when the user has installed one, else the CPU: wasm, then pure JS.
// WebGPU setup (navigator.gpu, adapter facts) is in ../gpu/webgpu.ts; a software adapter is used only
// when asked for by name.
import * as tf from '@tensorflow/tfjs-core';
// A named import (used below): esbuild drops bare imports of packages marked side-effect free, and
// this module registers the 'cpu' backend when it loads.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
// Gradients are registered by the tfjs union package; we import core directly, so register them here.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { existsSync } from 'node:fs';
import { softwareSkipNote, webgpuAdapter } from '../gpu/webgpu';
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
  /** Why the preferred ones were not used, and warnings (empty when the first choice ran as expected). */
  notes: string[];
  /** The WebGPU adapter tfjs runs on, when name is 'webgpu'. */
  adapter?: string;
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
      if (b === 'webgpu') {
        const n = notes.length;
        const adapter = await tryWebGpu(pref, notes);
        if (adapter) return { name: 'webgpu', notes, adapter };
        if (notes.length > n) continue; // it said why
      }
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

/** The adapter's name when tfjs now runs on WebGPU; undefined (a note pushed if it is a choice) when not. */
async function tryWebGpu(pref: TrainingBackend, notes: string[]): Promise<string | undefined> {
  const adapter = await webgpuAdapter();
  if (!adapter) return undefined;
  if (adapter.software) {
    if (pref === 'auto') { notes.push(`WebGPU: ${softwareSkipNote(adapter)}`); return undefined; }
    notes.push(`the WebGPU adapter is a software one: expect it to be slower than the CPU backend`);
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) return undefined;
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  return ok && tf.getBackend() === 'webgpu' ? adapter.description : undefined;
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
