// Inference engine choice for onnxruntime-node: auto = CUDA where its provider library is
// installed, else WebGPU where a hardware adapter exists, else CPU. Every result records the engine that
// ran and why the others were skipped. GPU engines get the float fake-quant rewrite of a QDQ graph
// (their Q/DQ kernels are slow: see docs/pipeline.md); the CPU engine runs the graph as given.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { QatLensError } from '../errors';
import { softwareSkipNote, webgpuAdapter } from '../gpu/webgpu';

export type EngineName = 'cpu' | 'webgpu' | 'cuda';
export type EngineChoice = 'auto' | EngineName;

export interface EngineSession {
  session: ort.InferenceSession;
  engine: EngineName;
  /** One line for the user: what ran, and why others did not. */
  note: string;
  skipped: { engine: EngineName; reason: string }[];
  /** True when the session runs the QDQ -> float rewrite of the model. */
  rewritten: boolean;
}

export interface ModelVariants {
  /** The model as given (used on the CPU engine). */
  original: Uint8Array;
  /** The model for GPU engines (float fake-quant rewrite of a QDQ graph), or why there is none. */
  gpu: () => { bytes: Uint8Array; rewritten: boolean; note?: string };
}

let webgpuUnavailable: string | undefined; // remembered per process: probing costs a session attempt

/** Folder of onnxruntime-node's native binding (where provider libraries would be installed). */
function bindingDir(): string | undefined {
  try {
    const req = createRequire(__filename);
    const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

function cudaInstalled(): string | undefined {
  const dir = bindingDir();
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (dir && existsSync(join(dir, lib))) return undefined;
  return 'the CUDA engine is not installed (it is an opt-in download: npm install --onnxruntime-node-install=cuda12)';
}

function shortReason(err: unknown): string {
  const m = (err as Error)?.message ?? String(err);
  const adapter = /Failed to get a WebGPU adapter[^\n]*/.exec(m);
  if (adapter) return `no WebGPU adapter (${adapter[0].replace(/^Failed to get a WebGPU adapter:?\s*/, '').trim() || 'none found'})`;
  return m
    .split('\n')[0]
    .replace(/^\/onnxruntime_src\/\S+\s*/, '')
    .slice(0, 200);
}

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

/** Session settings beyond the engine and optimization level (threads, execution mode). */
export type SessionExtras = Omit<ort.InferenceSession.SessionOptions, 'executionProviders' | 'graphOptimizationLevel'>;

const sessionOptions = (ep: EngineName, level: GraphOptimization, extra: SessionExtras): ort.InferenceSession.SessionOptions => ({
  logSeverityLevel: 4, // fatal only: errors reach the user once, wrapped in one line naming the model (engineError)
  ...extra,
  executionProviders: [ep],
  graphOptimizationLevel: level,
});

/**
 * Open a session on the chosen engine. 'auto' tries cuda, webgpu, cpu in that order; an explicit
 * GPU choice that is unavailable falls back to CPU and says so in `note`.
 */
export async function openSession(model: ModelVariants, choice: EngineChoice = 'auto', optimization: GraphOptimization = 'all', extra: SessionExtras = {}): Promise<EngineSession> {
  const order: EngineName[] = choice === 'auto' ? ['cuda', 'webgpu', 'cpu'] : choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
  const skipped: { engine: EngineName; reason: string }[] = [];
  let gpuModel: ReturnType<ModelVariants['gpu']> | undefined;
  for (const engine of order) {
    if (engine === 'cuda') {
      const why = cudaInstalled();
      if (why) {
        skipped.push({ engine, reason: why });
        continue;
      }
    }
    if (engine === 'webgpu' && webgpuUnavailable) {
      skipped.push({ engine, reason: webgpuUnavailable });
      continue;
    }
    let adapterNote: string | undefined;
    if (engine === 'webgpu') {
      // onnxruntime's Dawn enumerates the same drivers as the `webgpu` package's: ask that one what
      // the adapter is (when it is installed), so that 'auto' passes over software Vulkan (llvmpipe).
      const adapter = await webgpuAdapter().catch(() => undefined);
      if (adapter?.software && choice === 'auto') {
        skipped.push({ engine, reason: softwareSkipNote(adapter) });
        continue;
      }
      if (adapter) adapterNote = `WebGPU adapter: ${adapter.description}`;
    }
    let bytes = model.original,
      rewritten = false,
      rewriteNote: string | undefined;
    if (engine !== 'cpu') {
      gpuModel ??= model.gpu();
      ({ bytes, rewritten, note: rewriteNote } = gpuModel);
    }
    try {
      const session = await ort.InferenceSession.create(bytes, sessionOptions(engine, optimization, extra));
      const parts = [`ran on ${engine}${rewritten ? ' (QDQ graph rewritten to float fake-quant)' : ''}`];
      if (adapterNote) parts.push(adapterNote);
      if (rewriteNote) parts.push(rewriteNote);
      for (const s of skipped) parts.push(`${s.engine} skipped: ${s.reason}`);
      if (choice !== 'auto' && engine !== choice) parts.push(`${choice} was asked for but is unavailable, fell back to cpu`);
      return { session, engine, note: parts.join('; '), skipped, rewritten };
    } catch (err) {
      const reason = shortReason(err);
      if (engine === 'webgpu' && /adapter/i.test(reason)) webgpuUnavailable = reason;
      if (engine === 'cpu') throw new QatLensError(`onnxruntime cannot load the model on the CPU engine: ${reason}`);
      skipped.push({ engine, reason });
    }
  }
  throw new QatLensError('no inference engine could be started');
}

/** Engines this process can use, each with the reason when not (for benchmarks and diagnostics). */
export async function probeEngines(model: ModelVariants): Promise<{ engine: EngineName; available: boolean; reason?: string }[]> {
  const out: { engine: EngineName; available: boolean; reason?: string }[] = [];
  for (const e of ['cpu', 'webgpu', 'cuda'] as EngineName[]) {
    const s = await openSession(model, e).catch((err) => ({ engine: 'none', note: (err as Error).message, session: undefined }));
    if (s.engine === e) {
      out.push({ engine: e, available: true });
      await s.session?.release();
    } else {
      out.push({ engine: e, available: false, reason: (s as EngineSession).skipped?.find((x) => x.engine === e)?.reason ?? s.note });
      await s.session?.release();
    }
  }
  return out;
}
