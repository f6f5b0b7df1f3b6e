// WebGPU in Node through the optional `webgpu` package (Dawn): tells what adapter the machine offers.
// onnxruntime's WebGPU engine (a separate Dawn that enumerates the same Vulkan drivers, for inference
// and QC training) asks it whether the adapter is a real GPU: a software one (Mesa's llvmpipe/lavapipe,
// SwiftShader) is many times slower than the CPU engine, so 'auto' must not pick it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface WebGpuAdapter {
  /** Human-readable name, e.g. "nvidia ... (NVIDIA H200)" or "llvmpipe: Mesa 25.0.7 (software)". */
  description: string;
  software: boolean;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software rasterizer/i;

/** Whether Dawn's adapter info names a CPU implementation of WebGPU. */
export function isSoftwareAdapter(f: AdapterFacts): boolean {
  if (f.isFallbackAdapter) return true;
  if ((f.architecture ?? '').toLowerCase() === 'software') return true;
  return SOFTWARE.test(`${f.device ?? ''} ${f.description ?? ''}`);
}

export function describeAdapter(f: AdapterFacts): string {
  const name = [f.vendor, f.description || f.device].filter(Boolean).join(' ').trim() || 'unnamed adapter';
  return isSoftwareAdapter(f) ? `${name} (software)` : name;
}

const req = createRequire(__filename);

/** Dawn needs the Vulkan loader on Linux; without it, skip WebGPU quietly (Dawn would print a warning). */
function vulkanLoaderMissing(): boolean {
  if (process.platform !== 'linux') return false;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
    '/lib/x86_64-linux-gnu',
  ];
  return !dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

interface Gpu {
  requestAdapter(o?: object): Promise<(AdapterFacts & { info?: AdapterFacts }) | null>;
}

/**
 * Make `navigator.gpu` exist (once per process). Throws with the reason when it cannot.
 * Node 24's `navigator` is read-only, hence defineProperty.
 */
export function ensureNavigatorGpu(): Gpu {
  const g = globalThis as unknown as { navigator?: { gpu?: Gpu } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  if (vulkanLoaderMissing()) throw new Error('no Vulkan loader (libvulkan.so.1) on this machine');
  let webgpu: { create: (o: string[]) => Gpu; globals: Record<string, unknown> };
  try {
    webgpu = req('webgpu');
  } catch {
    throw new Error('the optional `webgpu` package is not installed');
  }
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.assign(Object.create(g.navigator ?? {}), { gpu }),
    configurable: true,
    writable: true,
  });
  return gpu;
}

let probed: Promise<WebGpuAdapter | undefined> | undefined;

/**
 * The adapter a high-performance request gets (what onnxruntime would run on), or undefined
 * when there is none. Throws when WebGPU cannot be set up at all. Cached per process.
 */
export function webgpuAdapter(): Promise<WebGpuAdapter | undefined> {
  probed ??= (async () => {
    const a = await ensureNavigatorGpu().requestAdapter({ powerPreference: 'high-performance' });
    if (!a) return undefined;
    // GPUAdapterInfo's fields are prototype getters: read them one by one (a spread copies nothing).
    const i = a.info ?? {};
    const f: AdapterFacts = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: a.isFallbackAdapter ?? i.isFallbackAdapter };
    return { description: describeAdapter(f), software: isSoftwareAdapter(f) };
  })();
  return probed;
}

/** The note for a software adapter that 'auto' passed over. */
export const softwareSkipNote = (a: WebGpuAdapter) => `only a software adapter (${a.description}), slower than the CPU path; ask for webgpu by name to use it`;
