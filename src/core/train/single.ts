// One QC gradient engine on this thread, on onnxruntime-node: two generated graphs (forward.ts,
// backward.ts) run as two sessions. forward() returns the heads under γ/β; backward() returns
// dLoss/dγ, dLoss/dβ for given dLoss/dHeads. Two ways to get the forward values the backward reads:
//   - keep (CPU): forward(..., keep) runs the keep forward (keep.ts), which also outputs them, and the
//     engine holds them until backward() of that micro-batch feeds them to the gradient-only graph;
//   - recompute (GPU engines, and any backward without kept values): the backward graph recomputes the
//     forward inside its own session.
// Engines as for inference (infer/engine.ts): CUDA where installed, else a hardware WebGPU adapter,
// else CPU; GPU engines get the fake-quant rounding as float adds (no Round kernel on WebGPU).
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { QatLensError } from '../errors';
import { openSession, type EngineSession, type ModelVariants } from '../infer/engine';
import { onnx } from '../onnx/proto';
import { buildBackward, type BackwardGraph } from './backward';
import { buildForward, type ForwardGraph } from './forward';
import { headroomBytes } from '../qc/memory';
import { splitKeep, type KeepGraphs } from './keep';
import { checkDHeads, checkImages, sameMemory, type HeadShape } from './checks';
import { probeShapes } from './shapes';
import type { GradEngine, GradEngineOptions } from './types';

/** The generated graphs for one rounding form (exposed for tests and benchmarks). */
export interface TrainGraphs {
  forward: ForwardGraph;
  backward: BackwardGraph;
  shapes: Map<string, number[]>;
}

export async function buildTrainGraphs(
  model: onnx.ModelProto,
  file: string,
  o: Pick<GradEngineOptions, 'layers' | 'heads' | 'imgsz'>,
  round: 'op' | 'magic' = 'op',
  shapes?: Map<string, number[]>,
): Promise<TrainGraphs> {
  const forward = buildForward(model, file, o.layers, o.heads, { round });
  // Both rounding forms name the values the backward asks shapes of alike: one probe serves both.
  const sh = shapes ?? (await probeShapes(forward, [3, ...imageSize(forward, file, o.imgsz)]));
  return { forward, backward: buildBackward(forward, sh, { gpu: round === 'magic' }), shapes: sh };
}

function imageSize(fwd: ForwardGraph, file: string, given?: [number, number]): [number, number] {
  if (given) return given;
  const [, c, h, w] = fwd.inputDims;
  if (fwd.inputDims.length !== 4 || (c && c !== 3)) throw new QatLensError(`QC expects an NCHW image input [batch, 3, H, W]; '${fwd.input}' is [${fwd.inputDims}]`, file, 'EINPUT');
  if (!h || !w) throw new QatLensError(`the model's input '${fwd.input}' has no fixed height/width: give the image size`, file, 'EINPUT');
  return [h, w];
}

const encode = (m: onnx.ModelProto) => onnx.ModelProto.encode(m).finish();

/**
 * Where the CPU engine runs as shards instead (engine.ts): called once the engine is known to be the
 * CPU, with the image size, the notes on skipped engines and the probed value shapes; undefined
 * keeps this one.
 */
export type CpuInstead = (size: [number, number], notes: string[], shapes: Map<string, number[]>) => Promise<GradEngine | undefined>;

/** One engine; `shapes`: the forward's value shapes when already probed (a shard gets its starter's). */
export async function openGradEngine(model: onnx.ModelProto, file: string, o: GradEngineOptions, cpuInstead?: CpuInstead, shapes?: Map<string, number[]>): Promise<GradEngine> {
  const cpu = await buildTrainGraphs(model, file, o, 'op', shapes);
  const size = imageSize(cpu.forward, file, o.imgsz);
  let gpu: TrainGraphs | undefined;
  const gpuGraphs = async () => (gpu ??= await buildTrainGraphs(model, file, o, 'magic', cpu.shapes));
  const threads = o.threads ?? cpus().length;
  // No memory pattern: with it, onnxruntime allocates a second, planned block on the second run at a
  // shape (a second warm-up run) and peaked 12% higher (example, batch 16: 1043 vs 919 MB); steady
  // steps measured the same within the machine's noise (npm run bench qc, 8 rounds each).
  // No thread spinning: each of the two sessions has its own pool, and a pool whose run has ended
  // spins on one of the two cores while the other session (or the loss, in JavaScript) runs.
  // Measured on the example at batch 16 (npm run bench qc, QC_BENCH_SPIN=1 for the A/B): 10-20%
  // faster per step and steadier, though CPU/wall falls (spinning counted as CPU time).
  const spin = o.spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } };
  const extras = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' as const, enableMemPattern: false, ...spin };
  // openSession builds the GPU variant synchronously: build it up front when a GPU engine may run.
  const wantGpu = (o.engine ?? 'auto') !== 'cpu';
  const gpuFwd = wantGpu ? (await gpuGraphs()).forward.model : undefined;
  const variants = (cpuModel: onnx.ModelProto, gpuModel: onnx.ModelProto | undefined): ModelVariants => ({
    original: encode(cpuModel),
    gpu: () => ({ bytes: encode(gpuModel ?? cpuModel), rewritten: false }),
  });
  const fwd: EngineSession = await openSession(variants(cpu.forward.model, gpuFwd), o.engine ?? 'auto', 'all', extras);
  const notes = fwd.skipped.map((s) => `${s.engine} skipped: ${s.reason}`);
  if (fwd.engine === 'cpu' && cpuInstead) {
    const other = await cpuInstead(size, notes, cpu.shapes).catch(async (err: unknown) => {
      await fwd.session.release();
      throw err;
    });
    if (other) {
      await fwd.session.release();
      return other;
    }
  }
  const bwdGraphs = fwd.engine === 'cpu' ? cpu : await gpuGraphs();
  const openBwd = async () => {
    const s = await openSession(variants(bwdGraphs.backward.model, bwdGraphs.backward.model), fwd.engine, 'all', extras);
    if (s.engine !== fwd.engine) {
      await s.session.release();
      throw new QatLensError(`the gradient graph does not run on ${fwd.engine} (${s.note})`, file, 'EENGINE');
    }
    return s.session;
  };
  // Keep: CPU only (the GPU engines keep recomputing: their outputs would cross to the CPU and back).
  // The recompute session then opens only when a backward finds nothing kept.
  const keeps = fwd.engine === 'cpu' && o.keep !== false;
  let kept: { graphs: KeepGraphs; forward: ort.InferenceSession; gradient: ort.InferenceSession } | undefined;
  let bwd: Promise<ort.InferenceSession> | undefined;
  try {
    if (keeps) {
      const graphs = splitKeep(cpu.forward, cpu.backward);
      const kf = await openSession(variants(graphs.forward, undefined), 'cpu', 'all', extras);
      const kb = await openSession(variants(graphs.backward, undefined), 'cpu', 'all', extras).catch(async (err: unknown) => {
        await kf.session.release();
        throw err;
      });
      kept = { graphs, forward: kf.session, gradient: kb.session };
    } else bwd = openBwd();
    await bwd;
  } catch (err) {
    await fwd.session.release();
    throw err;
  }
  const recompute = () => (bwd ??= openBwd());
  const adapter = /WebGPU adapter: ([^;]+)/.exec(fwd.note)?.[1];
  const device = fwd.engine === 'cpu' ? `cpu (${threads} thread${threads === 1 ? '' : 's'})` : fwd.engine === 'webgpu' && adapter ? `webgpu (${adapter})` : fwd.engine;
  const sites = cpu.forward.sites;
  const [h, w] = size;
  const heads: HeadShape[] = cpu.forward.heads.map((name) => ({ name, dims: cpu.shapes.get(name)!.slice(1) }));

  const feeds = (images: Float32Array, batch: number, gamma: Float32Array[], beta: Float32Array[]): Record<string, ort.Tensor> => {
    checkImages(file, images, batch, size);
    if (gamma.length !== sites.length || beta.length !== sites.length) throw new QatLensError(`expected γ and β for ${sites.length} layers, got ${gamma.length} and ${beta.length}`, file, 'EINPUT');
    const f: Record<string, ort.Tensor> = { [cpu.forward.input]: new ort.Tensor('float32', images, [batch, 3, h, w]) };
    sites.forEach((s, i) => {
      if (gamma[i].length !== s.layer.channels || beta[i].length !== s.layer.channels)
        throw new QatLensError(`layer '${s.layer.name}' has ${s.layer.channels} channels; got ${gamma[i].length} γ and ${beta[i].length} β`, file, 'EINPUT');
      f[s.gamma] = new ort.Tensor('float32', gamma[i], s.paramShape);
      f[s.beta] = new ort.Tensor('float32', beta[i], s.paramShape);
    });
    return f;
  };
  const b = bwdGraphs.backward;
  // The kept forward's saved values, with its images (by memory) and a copy of its γ/β to check the backward against.
  let slot: { images: Float32Array; batch: number; gamma: Float32Array[]; beta: Float32Array[]; saved: Record<string, ort.Tensor> } | undefined;
  const sameValues = (a: Float32Array[], c: Float32Array[]) => a.length === c.length && a.every((x, i) => x.length === c[i].length && x.every((v, k) => Object.is(v, c[i][k])));
  const savedNames = kept?.graphs.saved.map((s) => s.name) ?? [];
  // Bytes the kept values take per image: exact once a kept forward ran, before that an upper
  // bound from the forward values' shapes (a saved value the probe did not see counts as the largest).
  const perImage = (d: number[]) => d.slice(1).reduce((a, c) => a * c, 1);
  const largest = Math.max(0, ...[...cpu.shapes.values()].map((d) => perImage(d) * 4));
  let keptPerImage = (kept?.graphs.saved ?? []).reduce((n, s) => {
    const d = cpu.shapes.get(s.name);
    return n + (d ? perImage(d) * (s.elemType === 9 ? 1 : 4) : largest);
  }, 0);
  // onnxruntime-node copies each output into a new ArrayBuffer, and V8 cannot fail such an
  // allocation gracefully (the process aborts): keep only where both copies fit with room to spare;
  // otherwise the backward recomputes, and running out there is the usual one-line error.
  const keepFits = (batch: number) => 2 * keptPerImage * batch <= 0.5 * (o.memoryShare ?? 1) * headroomBytes();
  return {
    device,
    notes,
    size,
    keeps,
    heads,
    async forward(images, batch, gamma, beta, keep = false) {
      const f = feeds(images, batch, gamma, beta);
      if (!(keep && kept && keepFits(batch))) {
        const out = await fwd.session.run(f, cpu.forward.heads);
        return cpu.forward.heads.map((name) => out[name].data as Float32Array);
      }
      // One micro-batch's values at most: a later kept forward replaces them (dropped before it runs).
      slot = undefined;
      const out = await kept.forward.run(f, [...new Set([...cpu.forward.heads, ...savedNames])]);
      const saved: Record<string, ort.Tensor> = {};
      for (const n of savedNames) saved[n] = out[n];
      keptPerImage = savedNames.reduce((n, k) => n + (out[k].data as ArrayBufferView).byteLength, 0) / batch;
      slot = { images, batch, gamma: gamma.map((g) => g.slice()), beta: beta.map((x) => x.slice()), saved };
      return cpu.forward.heads.map((name) => out[name].data as Float32Array);
    },
    async backward(images, batch, gamma, beta, dHeads) {
      const f = feeds(images, batch, gamma, beta);
      checkDHeads(file, heads, batch, dHeads);
      heads.forEach(({ dims }, i) => (f[b.dHeads[i]] = new ort.Tensor('float32', dHeads[i], [batch, ...dims])));
      const want = [...b.dGamma, ...b.dBeta].filter((x): x is string => !!x);
      // The kept values are for this micro-batch: used once (dropped either way), and only under the same γ/β.
      const s = slot && sameMemory(slot.images, images) && slot.batch === batch ? slot : undefined;
      if (s) slot = undefined;
      let out: ort.InferenceSession.ReturnType;
      if (kept && s && sameValues(s.gamma, gamma) && sameValues(s.beta, beta)) {
        const g: Record<string, ort.Tensor> = {};
        for (const n of kept.gradient.inputNames) g[n] = s.saved[n] ?? f[n];
        out = await kept.gradient.run(g, want);
      } else out = await (await recompute()).run(f, want);
      const pick = (names: (string | undefined)[]) => names.map((n, i) => (n ? Float32Array.from(out[n].data as Float32Array) : new Float32Array(sites[i].layer.channels)));
      return { dGamma: pick(b.dGamma), dBeta: pick(b.dBeta) };
    },
    async dispose() {
      slot = undefined;
      const open = [fwd.session, ...(kept ? [kept.forward, kept.gradient] : [])];
      if (bwd) open.push(await bwd.catch(() => undefined as never));
      await Promise.all(open.filter(Boolean).map((s) => s.release()));
    },
  };
}
