// One call, every model on the same images: float, QAT (as given), soft-round δ variants and the
// latent variant of the QAT weights, and the QC-corrected model.
import { extname } from 'node:path';
import { QatLensError, throwIfAborted } from '../errors';
import { subContext, type JobContext } from '../context';
import { loadProbeSource, type ProbeSource } from '../probe/probeSource';
import { buildVariant, type VariantSpec } from '../probe/probeVariants';
import { hardIntegers } from '../probe/probeMath';
import { findWeightChains } from '../probe/probeGraph';
import { loadModel } from '../onnx/proto';
import type { NmsOptions } from '../infer/nms';
import { attachIntervals } from './intervals';
import { makeScorer, type Scorer } from './score';
import type { CompareEntry, CompareReport } from './types';

export type Engine = 'auto' | 'cpu' | 'webgpu' | 'cuda';

export interface CompareParams {
  data: string;
  /** The QAT model (QDQ ONNX) as deployed. */
  qat: string;
  float?: string;
  /** Latent weights for the soft/latent variants: a PyTorch checkpoint, or a QDQ ONNX with float weights (Q -> Clip -> DQ). Default: the QAT ONNX itself where it has them. */
  latent?: string;
  corrected?: string;
  /** Soft-rounding thresholds (0 is the QAT model itself and is skipped). */
  deltas?: number[];
  /** Also score the latent variant (default true when latent weights exist). */
  latentVariant?: boolean;
  engine?: Engine;
  limit?: number;
  nms?: Partial<NmsOptions>;
  title?: string;
  /** Written outputs to list with the comparison (e.g. the corrected model). */
  outputs?: { label: string; file: string }[];
  /** Notes to put first. */
  notes?: string[];
  /**
   * The hard, soft-round and latent rows already scored on the same data (by the probe): used as
   * they are, in place of building and scoring the variants again.
   */
  variants?: { entries: CompareEntry[]; latentFrom: string };
  /** Bootstrap resamples for the intervals of the differences (default 1000; 0: none) and their seed. */
  bootstrap?: number;
  seed?: number;
  /** `--anchors` (W,H,.../... or a model yaml), for raw-head exports. */
  anchors?: string;
  /** The qatLens.anchors setting. */
  anchorsSetting?: string;
}

/** The probe's latent source for a comparison, or undefined (with a note) where there is none. */
export async function compareLatentSource(qat: string, latent: string | undefined, notes: string[]): Promise<ProbeSource | undefined> {
  if (latent && extname(latent).toLowerCase() === '.onnx') {
    const src = await loadProbeSource(latent);
    // The latent ONNX must be the same network as the QAT one: its rounded weights must equal the QAT's integers.
    const qChains = findWeightChains(loadModel(qat), qat).filter((c) => c.pattern === 'integer');
    if (qChains.length > 0) {
      let diff = 0,
        total = 0;
      for (const c of qChains) {
        const l = src.layers.find((x) => x.chain.shape.join('x') === c.shape.join('x') && norm(x.chain.name) === norm(c.name)) ?? src.layers[qChains.indexOf(c)];
        if (!l || l.latent.length !== c.integers!.length) throw new QatLensError(`no weight of ${latent} matches '${c.name}' [${c.shape.join(', ')}]`, qat, 'EMISMATCH');
        const h = hardIntegers(l.latent, l.chain.shape, l.quant);
        for (let i = 0; i < h.length; i++) if (h[i] !== c.integers![i]) diff++;
        total += h.length;
      }
      if (diff > 0.01 * total)
        throw new QatLensError(`the weights of ${latent} round to integers that differ from this model's in ${diff} of ${total} weights: not the same QAT weights`, qat, 'EMISMATCH');
      notes.push(`soft-round and latent variants built from ${latent} (its rounded weights equal the QAT model's integers in ${total - diff} of ${total} weights)`);
    }
    return src;
  }
  if (latent) return loadProbeSource(qat, { pt: latent });
  try {
    return await loadProbeSource(qat);
  } catch (err) {
    if (err instanceof QatLensError && err.code === 'ENOLATENT') {
      notes.push(`${qat} stores integer weights only: soft-round and latent variants skipped (pass --latent CHECKPOINT.pt or a QDQ ONNX with float weights)`);
      return undefined;
    }
    throw err;
  }
}

const norm = (s: string) => s.replace(/(_quantized|_quant|_int8|_int4|_int|_q)$/, '').replace(/\.weight$/, '');

/** Whether the hard variant reproduced the QAT model's mAP, and what the soft rows are measured against. */
export function hardNote(entries: CompareEntry[]): string {
  const q = entries.find((e) => e.role === 'qat'),
    h = entries.find((e) => e.role === 'hard');
  if (!q || !h) return 'soft-round rows compare with the hard variant (δ = 0)';
  if (q.map === h.map && q.map50 === h.map50) return "the hard variant (δ = 0, weights s·q as float initializers) scores exactly the QAT model's mAP";
  return `the hard variant (δ = 0) has the QAT model's integers but scores mAP@.5:.95 ${(h.map * 100).toFixed(2)} vs ${(q.map * 100).toFixed(2)}: onnxruntime's fully optimised QDQ graph sums convolutions in another order than the float-weight graph, and at low bit-widths such float differences can flip activation roundings. Compare the soft-round rows with the hard row (same graph), not with the QAT row`;
}

export function gapRecovered(entries: CompareEntry[]): CompareReport['gapRecovered'] {
  const f = entries.find((e) => e.role === 'float'),
    q = entries.find((e) => e.role === 'qat'),
    c = entries.find((e) => e.role === 'qc');
  if (!f || !q || !c || f.map === q.map || f.map50 === q.map50) return undefined;
  return { map: (c.map - q.map) / (f.map - q.map), map50: (c.map50 - q.map50) / (f.map50 - q.map50) };
}

export async function compareModels(p: CompareParams, ctx: JobContext, scorer: Scorer = makeScorer()): Promise<CompareReport> {
  const t0 = Date.now();
  const notes: string[] = [...(p.notes ?? [])];
  const entries: CompareEntry[] = [];
  const opts = { engine: p.engine, limit: p.limit, nms: p.nms, anchorSources: { flag: p.anchors, setting: p.anchorsSetting, data: p.data } };
  const deltas = [...new Set((p.deltas ?? [0.05, 0.1, 0.25]).filter((d) => d > 0))].sort((a, b) => a - b);
  const src = p.variants ? undefined : await compareLatentSource(p.qat, p.latent, notes);
  if (src) notes.push(...src.notes);
  const jobs: { label: string; role: CompareEntry['role']; file?: string; spec?: VariantSpec; model?: string; given?: CompareEntry }[] = [];
  if (p.float) jobs.push({ label: 'float', role: 'float', model: p.float, file: p.float });
  jobs.push({ label: 'QAT', role: 'qat', model: p.qat, file: p.qat });
  if (src) {
    // The hard variant runs the same graph as the soft ones (float weights s·q): the soft rows are
    // measured against it. It has the QAT model's integers, but onnxruntime's fully optimised QDQ
    // graph accumulates in another order, and at 4 bits that can flip activation roundings.
    jobs.push({ label: 'QAT hard δ=0 (float weights)', role: 'hard', spec: { kind: 'hard' }, file: src.file });
    for (const delta of deltas) jobs.push({ label: `soft-round δ=${delta}`, role: 'soft', spec: { kind: 'soft', delta }, file: src.file });
    if (p.latentVariant !== false) jobs.push({ label: 'latent weights', role: 'latent', spec: { kind: 'latent' }, file: src.latentFrom });
  }
  for (const e of p.variants?.entries ?? []) jobs.push({ label: e.label, role: e.role, given: e });
  if (p.corrected) jobs.push({ label: 'QC', role: 'qc', model: p.corrected, file: p.corrected });
  for (const [i, j] of jobs.entries()) {
    throwIfAborted(ctx.signal);
    if (j.given) {
      entries.push(j.given);
      continue;
    }
    const t = Date.now();
    const sub = subContext(ctx, `${j.label} (${i + 1}/${jobs.length})`, i / jobs.length, 1 / jobs.length);
    let entry: CompareEntry;
    if (j.spec) {
      const v = buildVariant(src!, j.spec);
      entry = { ...(await scorer(v.bytes, p.data, { ...opts, name: p.qat }, sub)), label: j.label, role: j.role, file: j.file, softWeights: v.soft, probedWeights: v.weights };
      if (j.spec.kind === 'soft') entry.delta = j.spec.delta;
    } else {
      entry = { ...(await scorer(j.model!, p.data, { ...opts, findHead: true }, sub)), label: j.label, role: j.role, file: j.file };
    }
    entry.seconds = (Date.now() - t) / 1000;
    entries.push(entry);
    ctx.log('info', `${j.label}: mAP@.5:.95 ${(entry.map * 100).toFixed(1)}, mAP@.5 ${(entry.map50 * 100).toFixed(1)}`);
  }
  const variants = !!src || !!p.variants?.entries.length;
  if (variants && entries.some((e) => e.role === 'latent')) {
    notes.push('latent: every quantized weight unquantized (its latent float value), activation quantizers unchanged');
  }
  if (variants) {
    notes.push('soft-round δ: weights within δ of a rounding threshold keep their latent value (clipped to the integer range), all others keep their integer; it may raise or lower mAP');
    notes.push(hardNote(entries));
  }
  for (const e of entries) if (e.head && e.role !== 'hard' && e.role !== 'soft' && e.role !== 'latent') notes.push(`${e.label} head: ${e.head}`);
  const engine = entries[0]?.engine;
  const gap = gapRecovered(entries);
  const bootstrap = attachIntervals(entries, gap, { resamples: p.bootstrap, seed: p.seed });
  if (bootstrap) ctx.log('info', `bootstrap: ${bootstrap.resamples} resamples of ${bootstrap.images} images for ${entries.length} models in ${(bootstrap.ms / 1000).toFixed(2)} s`);
  return {
    kind: 'compare',
    comparison: { title: p.title ?? 'Compare mAP', data: p.data, prIou: '.50:.95', entries, notes, ...(p.outputs ? { outputs: p.outputs } : {}), ...(bootstrap ? { bootstrap } : {}) },
    gapRecovered: gap,
    latentFrom: src?.latentFrom ?? p.variants?.latentFrom,
    engine,
    images: entries[0]?.images,
    seconds: (Date.now() - t0) / 1000,
  };
}
