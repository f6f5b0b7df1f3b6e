// The soft-rounding probe (docs/definitions.md, "Soft rounding"): mAP of the QAT model with its
// weights hard-quantized (δ = 0), soft-rounded at each δ, and unquantized (latent), all on the same
// graph with activation quantizers unchanged; optionally a per-layer ranking by output change.
import { analyzeCheckpoints, matchKey } from '../analysis/analyzeCheckpoints';
import { throwIfAborted } from '../errors';
import { readCheckpoint } from '../readers';
import { subContext, type JobContext } from '../context';
import type { Engine } from '../compare/compare';
import { makeScorer, type Scorer } from '../compare/score';
import type { NmsOptions } from '../infer/nms';
import type { CompareEntry } from '../compare/types';
import { perLayerOutputChange, probeInputs, type LayerOutputChange } from './probeOutputs';
import { loadProbeSource } from './probeSource';
import { buildVariant, type VariantSpec } from './probeVariants';

export interface ProbeOptions {
  data: string;
  deltas: number[];
  /** Checkpoint with the latent weights where the ONNX stores integers only. */
  pt?: string;
  /** "model" or "ema" of the checkpoint (default: whichever reproduces the ONNX integers best). */
  variant?: string;
  /** Score the latent variant too (default true). */
  latent?: boolean;
  perLayer?: boolean;
  /** δ of the per-layer probe (default: 0.1 if listed, else the largest δ). */
  perLayerDelta?: number;
  /** Evaluation images the per-layer output change is measured on (default 4). */
  perLayerImages?: number;
  /** Only these layers in the per-layer probe (e.g. the analysis's flagged ones). */
  perLayerOnly?: string[];
  /** Also score mAP with only that layer soft-rounded, for the top N layers by output change (default 0). */
  perLayerMap?: number;
  /** Names of layers the oscillation analysis flagged (any naming: matched like the analysis matches checkpoints); marks the per-layer rows. */
  flagged?: string[];
  /** Per-layer probe of the flagged layers only (analysed here from the model, or --pt, when `flagged` is not given). */
  flaggedOnly?: boolean;
  engine?: Engine;
  limit?: number;
  nms?: Partial<NmsOptions>;
  /** `--anchors` and the qatLens.anchors setting, for raw-head exports. */
  anchors?: string;
  anchorsSetting?: string;
}

export interface ProbeLayerCounts {
  name: string;
  op: string;
  shape: number[];
  weights: number;
  inRange: number;
  clipped: number;
  /** Soft-rounded weights at each δ (same order as `deltas`). */
  soft: number[];
}

export interface ProbeReport {
  model: string;
  data: string;
  latentFrom: string;
  deltas: number[];
  /** δ = 0: hard quantization, the same integers as the QAT model. */
  baseline: CompareEntry;
  /** One per δ > 0. */
  soft: CompareEntry[];
  latent?: CompareEntry;
  layers: ProbeLayerCounts[];
  perLayer?: { delta: number; images: number; layers: LayerOutputChange[] };
  /** Plain sentences: which way soft rounding moved mAP. */
  findings: string[];
  notes: string[];
  seconds: number;
}

const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;

export async function probeModel(model: string, o: ProbeOptions, ctx: JobContext, scorer: Scorer = makeScorer()): Promise<ProbeReport> {
  const t0 = Date.now();
  const src = await loadProbeSource(model, { pt: o.pt, variant: o.variant });
  const anchorSources = { flag: o.anchors, setting: o.anchorsSetting, data: o.data };
  const notes = [...src.notes];
  const deltas = [...new Set(o.deltas.filter((d) => d > 0))].sort((a, b) => a - b);
  if (o.deltas.includes(0)) notes.push('δ = 0 is the hard baseline; it is listed once');
  const specs: VariantSpec[] = [{ kind: 'hard' }, ...deltas.map((delta) => ({ kind: 'soft' as const, delta })), ...(o.latent === false ? [] : [{ kind: 'latent' as const }])];
  const per = o.perLayer ? 0.3 : 0;
  const entries: CompareEntry[] = [];
  const counts = new Map<string, ProbeLayerCounts>();
  for (const [i, spec] of specs.entries()) {
    throwIfAborted(ctx.signal);
    const v = buildVariant(src, spec);
    for (const l of v.layers) {
      const c = counts.get(l.name) ?? { name: l.name, op: '', shape: [], weights: l.weights, inRange: l.inRange, clipped: l.clipped, soft: [] };
      if (spec.kind === 'soft') c.soft.push(l.soft);
      counts.set(l.name, c);
    }
    const label = spec.kind === 'hard' ? 'QAT (hard, δ=0)' : spec.kind === 'soft' ? `soft-round δ=${spec.delta}` : 'latent weights';
    const sub = subContext(ctx, `${label} (${i + 1}/${specs.length})`, (i / specs.length) * (1 - per), (1 - per) / specs.length);
    const t = Date.now();
    const s = await scorer(v.bytes, o.data, { engine: o.engine, limit: o.limit, nms: o.nms, anchorSources, name: model, findHead: i === 0 }, sub);
    if (s.head && !notes.some((n) => n.startsWith('head: '))) notes.push(`head: ${s.head}`);
    const e: CompareEntry = { ...s, label, role: spec.kind, file: model, softWeights: v.soft, probedWeights: v.weights, seconds: (Date.now() - t) / 1000 };
    if (spec.kind === 'soft') e.delta = spec.delta;
    entries.push(e);
    ctx.log('info', `${label}: mAP@.5:.95 ${(e.map * 100).toFixed(1)}, mAP@.5 ${(e.map50 * 100).toFixed(1)} (${v.soft} of ${v.weights} weights latent-valued)`);
  }
  for (const l of src.layers) {
    const c = counts.get(l.chain.name)!;
    c.op = l.chain.op;
    c.shape = l.chain.shape;
  }
  const baseline = entries[0];
  const soft = entries.filter((e) => e.role === 'soft');
  const latent = entries.find((e) => e.role === 'latent');
  const findings = soft.map((e) => {
    const d = e.map - baseline.map;
    const dir = Math.abs(d) < 0.0005 ? 'left mAP@.5:.95 unchanged' : d > 0 ? 'RAISED mAP@.5:.95' : 'LOWERED mAP@.5:.95';
    return `soft rounding at δ=${e.delta} (${e.softWeights} weights, ${((100 * e.softWeights!) / e.probedWeights!).toFixed(1)}%) ${dir}: ${(baseline.map * 100).toFixed(1)} → ${(e.map * 100).toFixed(1)} (${pts(d)} points; mAP@.5 ${pts(e.map50 - baseline.map50)})`;
  });
  if (latent) findings.push(`latent (unquantized) weights with the activation quantizers kept: mAP@.5:.95 ${(latent.map * 100).toFixed(1)} (${pts(latent.map - baseline.map)} points vs hard)`);
  notes.push(
    'soft rounding is a probe, not a fix: it tells whether the weights sitting on rounding thresholds cost accuracy. It can lower mAP (QAT adapted the rest of the network to the rounded weights); on a held-out 4-bit YOLOv5n run it lowered mAP@.5:.95 from 0.615 to 0.581 at δ = 0.1, while the paper saw a gain on COCO',
  );

  let perLayer: ProbeReport['perLayer'];
  if (o.perLayer) {
    const delta = o.perLayerDelta ?? (deltas.includes(0.1) ? 0.1 : (deltas[deltas.length - 1] ?? 0.1));
    const images = o.perLayerImages ?? 4;
    let only = o.perLayerOnly;
    let flagged = o.flagged;
    if (o.flaggedOnly && !flagged) flagged = await flaggedByAnalysis(o.pt ?? model, o.variant);
    const isFlagged = flaggedMatcher(flagged ?? []);
    if (o.flaggedOnly) {
      only = src.layers.filter((l) => isFlagged(l.chain.name, l.latentName)).map((l) => l.chain.name);
      notes.push(`per-layer probe of the ${only.length} layers the oscillation analysis flags`);
      if (only.length === 0) findings.push('the oscillation analysis flags no layer: the per-layer probe has nothing to do');
    }
    const inputs = await probeInputs(o.data, src.model, images);
    const sub = subContext(ctx, `per-layer probe δ=${delta}`, 1 - per, per);
    const layers = only && only.length === 0 ? [] : await perLayerOutputChange(src, inputs, delta, sub, only);
    if (flagged) {
      for (const l of layers) {
        const srcLayer = src.layers.find((x) => x.chain.name === l.name);
        l.flagged = isFlagged(l.name, srcLayer?.latentName);
      }
    }
    const top = layers.filter((l) => l.softWeights > 0).slice(0, o.perLayerMap ?? 0);
    for (const [i, l] of top.entries()) {
      throwIfAborted(ctx.signal);
      const v = buildVariant(src, { kind: 'soft', delta }, new Set([l.name]));
      const s = await scorer(
        v.bytes,
        o.data,
        { engine: o.engine, limit: o.limit, nms: o.nms, anchorSources, name: model },
        subContext(ctx, `mAP with ${l.name} soft-rounded (${i + 1}/${top.length})`, 1, 0),
      );
      l.map = s.map;
      l.map50 = s.map50;
      ctx.log('info', `only ${l.name} soft-rounded at δ=${delta}: mAP@.5:.95 ${(s.map * 100).toFixed(1)} (${pts(s.map - baseline.map)} vs hard)`);
    }
    perLayer = { delta, images: inputs.length, layers };
    const first = layers
      .slice(0, 3)
      .map((l) => `${l.name} (relative output change ${l.relativeChange.toExponential(2)}${l.map !== undefined ? `, mAP@.5:.95 ${pts(l.map - baseline.map)} points` : ''})`);
    if (first.length) findings.push(`per layer at δ=${delta}, the outputs move most when soft-rounding: ${first.join(', ')}`);
    notes.push(
      "the per-layer output change is a fast proxy, not the mAP: at 4 bits any weight change flips activation roundings downstream, and how much the raw outputs move predicts a layer's own mAP change only weakly; score the top layers with --layer-map before acting on the ranking",
    );
  }
  return { model, data: o.data, latentFrom: src.latentFrom, deltas, baseline, soft, latent, layers: [...counts.values()], perLayer, findings, notes, seconds: (Date.now() - t0) / 1000 };
}

/** Layers the oscillation analysis flags in a checkpoint (the ONNX itself, or the --pt checkpoint). */
async function flaggedByAnalysis(file: string, variant?: string): Promise<string[]> {
  const ck = await readCheckpoint(file);
  if (variant) ck.variants = ck.variants.filter((v) => v.variant === variant);
  return analyzeCheckpoints([ck])
    .layers.filter((l) => l.flagged)
    .map((l) => l.name);
}

/** Whether a probe layer (ONNX weight name, checkpoint name) is one of `names`, by the analysis's match key. */
function flaggedMatcher(names: string[]): (name: string, latentName?: string) => boolean {
  const keys = new Set(names.map(matchKey));
  return (name, latentName) => keys.has(matchKey(name)) || (latentName !== undefined && keys.has(matchKey(latentName)));
}
