// Builds the whole oscillation report from checkpoints already in memory: per-layer quantities of
// the last checkpoint, flags, and (with several checkpoints, or `model` + `ema` in one file) the
// tracking across them. Layer-major: each layer of each checkpoint is read in one pass that yields
// its stats and its integer states; only one layer's states are held at a time.
import { basename } from 'node:path';
import { QatLensError, throwIfAborted } from '../errors';
import type { Checkpoint, QuantizedLayer, QuantModel } from '../model';
import { DEFAULT_DELTA, DEFAULT_MAX_P_VALUE, DEFAULT_MIN_CONCENTRATION, flagLayers } from './flags';
import { analyzeLayer, checkQuantizer, granularityOf, integerStates, type LayerStats, summarizeScale, summarizeZeroPoint } from './layerStats';
import { FlipTracker, flipFraction, scaleMovement } from './sequence';
import type { ActivationReport, AnalysisReport, AnalysisSettings, CheckpointSummary, ModelVsEma, SequenceReport } from './types';

export interface AnalyzeOptions {
  delta?: number;
  minConcentration?: number;
  maxPValue?: number;
  /** The --bits the readers were given (recorded in the report's settings). */
  bits?: number;
  signal?: AbortSignal;
  progress?: (fraction: number, message: string) => void;
}

const byName = (a: string, b: string) => basename(a).localeCompare(basename(b), 'en', { numeric: true }) || a.localeCompare(b);

/** Orders the checkpoints of a run: by epoch where every file records one, else by file name. */
export function orderCheckpoints(cks: Checkpoint[]): { ordered: Checkpoint[]; orderedBy: 'epoch' | 'name' } {
  const byEpoch = cks.length > 1 && cks.every((c) => typeof c.epoch === 'number' && Number.isFinite(c.epoch));
  const ordered = [...cks].sort((a, b) => (byEpoch ? a.epoch! - b.epoch! : 0) || byName(a.file, b.file));
  return { ordered, orderedBy: byEpoch ? 'epoch' : 'name' };
}

/** The variant whose weights are analyzed: `model` (the training weights) where present, else the first with layers. */
export function analyzedVariant(ck: Checkpoint): QuantModel | undefined {
  const withLayers = ck.variants.filter((v) => v.layers.length > 0);
  return withLayers.find((v) => v.variant === 'model') ?? withLayers[0] ?? ck.variants[0];
}

const scalesEqualShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const countOf = (l: QuantizedLayer) => l.weight.shape.reduce((a, b) => a * b, 1);

/**
 * The key a layer is matched by across checkpoints: its name without a trailing ".weight" and the
 * integer-initializer suffixes exporters add ("_int", "_q", "_quant", "_quantized"), so that a
 * PyTorch "model.1.conv" meets an ONNX "model.1.conv.weight" or "model.1.conv.weight_int".
 */
export const matchKey = (name: string): string => name.replace(/\.weight(?:_int|_q|_quant|_quantized)?$/, '').replace(/_(?:int|q|quant|quantized)$/, '');

/** Layers of a variant by match key; a key two layers share falls back to their full names. */
function layerMap(model: QuantModel | undefined, notes: string[], file: string): Map<string, QuantizedLayer> {
  const m = new Map<string, QuantizedLayer>();
  const seen = new Set<string>();
  for (const l of model?.layers ?? []) {
    if (seen.has(l.name)) {
      notes.push(`${basename(file)}: layer "${l.name}" appears twice in variant "${model!.variant}"; the first is analyzed`);
      continue;
    }
    seen.add(l.name);
    const key = matchKey(l.name);
    m.set(m.has(key) || key === '' ? l.name : key, l);
  }
  return m;
}

function activationReport(name: string, q: import('../model').Quantizer): ActivationReport {
  const axis = q.axis === null || q.scale.length === 1 ? null : q.axis;
  return {
    name,
    bits: q.bits,
    bitsSource: q.bitsSource,
    qmin: q.qmin,
    qmax: q.qmax,
    quantizerKind: q.kind,
    granularity: granularityOf(axis),
    scale: summarizeScale(q.scale, axis),
    zeroPoint: summarizeZeroPoint(q.zeroPoint),
  };
}

export function analyzeCheckpoints(checkpoints: Checkpoint[], opts: AnalyzeOptions = {}): AnalysisReport {
  if (checkpoints.length === 0) throw new Error('analyzeCheckpoints: no checkpoints');
  const settings: AnalysisSettings = {
    delta: opts.delta ?? DEFAULT_DELTA,
    minConcentration: opts.minConcentration ?? DEFAULT_MIN_CONCENTRATION,
    maxPValue: opts.maxPValue ?? DEFAULT_MAX_P_VALUE,
    bits: opts.bits ?? null,
  };
  const { ordered, orderedBy } = orderCheckpoints(checkpoints);
  const K = ordered.length;
  const notes: string[] = [];
  // Reader notes, once each; with several files, prefixed by the files that have them unless all do.
  const noteFiles = new Map<string, string[]>();
  for (const ck of ordered) for (const n of new Set(ck.notes)) noteFiles.set(n, [...(noteFiles.get(n) ?? []), basename(ck.file)]);
  for (const [n, fs] of noteFiles) notes.push(K > 1 && fs.length < K ? `${fs.join(', ')}: ${n}` : n);

  const variants = ordered.map(analyzedVariant);
  const maps = ordered.map((ck, t) => layerMap(variants[t], notes, ck.file));
  const emaMaps = ordered.map((ck, t) => {
    const ema = ck.variants.find((v) => v.variant === 'ema' && v.layers.length > 0);
    return variants[t]?.variant === 'model' && ema ? layerMap(ema, notes, ck.file) : null;
  });

  // Layer names in report order: the last checkpoint's order, then names only earlier ones have.
  const names: string[] = [];
  const seen = new Set<string>();
  for (let t = K - 1; t >= 0; t--)
    for (const n of maps[t].keys())
      if (!seen.has(n)) {
        seen.add(n);
        names.push(n);
      }
  /** A key's name in the report: the layer's own name in the last checkpoint that has it. */
  const shown = (key: string): string => {
    for (let t = K - 1; t >= 0; t--) {
      const l = maps[t].get(key) ?? emaMaps[t]?.get(key);
      if (l) return l.name;
    }
    return key;
  };
  const renamed = names.find((k) => new Set(maps.flatMap((m) => (m.has(k) ? [m.get(k)!.name] : []))).size > 1);
  if (renamed)
    notes.push(
      `layers matched across checkpoints by name without ".weight"/"_int"-style suffixes (e.g. ${[...new Set(maps.flatMap((m) => (m.has(renamed) ? [`"${m.get(renamed)!.name}"`] : [])))].join(' = ')})`,
    );

  const stats: LayerStats[][] = ordered.map(() => []);
  const statsByKey: Map<string, LayerStats>[] = ordered.map(() => new Map());
  // Only each layer's summary is kept: the trackers' per-weight arrays go as soon as the layer is done.
  const seqTrackers = new Map<string, Pick<FlipTracker, 'flipFractions' | 'meanReversals' | 'reversalShare'>>();
  const shapeMismatch: string[] = [];
  const emaFlips: Map<string, number>[] = ordered.map(() => new Map());
  const emaScale: Map<string, number>[] = ordered.map(() => new Map());
  const totalWork = names.reduce((a, n) => a + maps.reduce((b, m) => b + (m.has(n) ? countOf(m.get(n)!) : 0), 0), 0) || 1;
  let done = 0;

  for (const name of names) {
    throwIfAborted(opts.signal);
    const present = maps.map((m) => m.get(name));
    const inAll = present.every((l) => l !== undefined);
    const sameShape = inAll && present.every((l) => scalesEqualShape(l!.weight.shape, present[0]!.weight.shape));
    if (inAll && !sameShape) shapeMismatch.push(shown(name));
    const track = K > 1 && inAll && sameShape;
    const tracker = track ? new FlipTracker(countOf(present[0]!)) : null;
    const bufs = track ? [new Int32Array(countOf(present[0]!)), new Int32Array(countOf(present[0]!))] : [];
    for (let t = 0; t < K; t++) {
      const layer = present[t];
      if (!layer) continue;
      const ema = emaMaps[t]?.get(name);
      const compareEma = !!ema && scalesEqualShape(ema.weight.shape, layer.weight.shape);
      let q: Int32Array | undefined;
      if (tracker) q = bufs[t % 2];
      else if (compareEma) q = new Int32Array(countOf(layer));
      const st = inFile(ordered[t].file, () => analyzeLayer(layer, settings.delta, q));
      stats[t].push(st);
      statsByKey[t].set(name, st);
      if (tracker) tracker.push(q!);
      if (compareEma) {
        emaFlips[t].set(
          name,
          flipFraction(
            q!,
            inFile(ordered[t].file, () => integerStates(ema!)),
          ),
        );
        const m = scaleMovement([layer.weightQuantizer.scale, ema!.weightQuantizer.scale]);
        if (m) emaScale[t].set(name, m.scaleRelativeChange[0]);
      }
      done += countOf(layer);
      opts.progress?.(done / totalWork, `layer ${name}`);
    }
    if (tracker) seqTrackers.set(name, { flipFractions: tracker.flipFractions, meanReversals: tracker.meanReversals, reversalShare: tracker.reversalShare });
  }

  for (const s of stats) flagLayers(s, settings);
  const last = stats[K - 1];
  for (const [key, l] of statsByKey[K - 1]) {
    const f = emaFlips[K - 1].get(key);
    if (f !== undefined) l.modelVsEmaFlipFraction = f;
  }

  // Activations (deduplicated by name) of the analyzed variant.
  const actMaps = variants.map((v) => {
    const m = new Map<string, import('../model').Quantizer>();
    for (const a of v?.activations ?? []) if (!m.has(a.name)) m.set(a.name, a.quantizer);
    return m;
  });
  const lastFile = ordered[K - 1].file;
  const activations = [...actMaps[K - 1]].map(([n, q]) => {
    // An activation has no tensor here: check the scales against a shape that fits their axis.
    const shape = new Array((q.axis ?? 0) + 1).fill(1);
    shape[q.axis ?? 0] = q.scale.length;
    inFile(lastFile, () => checkQuantizer(q, shape, `activation "${n}"`));
    return activationReport(n, q);
  });

  const checkpointsOut: CheckpointSummary[] = ordered.map((ck, t) => ({
    file: ck.file,
    format: ck.format,
    epoch: ck.epoch ?? null,
    modelClass: ck.modelClass ?? null,
    variants: ck.variants.map((v) => v.variant),
    analyzedVariant: variants[t]?.variant ?? '',
  }));

  let sequence: SequenceReport | undefined;
  if (K > 1) {
    const partial: SequenceReport['partial'] = [];
    const seqLayers: SequenceReport['layers'] = [];
    for (const name of names) {
      const tr = seqTrackers.get(name);
      if (!tr) {
        if (!inAllKeys(maps, name)) partial.push({ name: shown(name), kind: 'layer', presentIn: ordered.filter((_, t) => maps[t].has(name)).map((c) => c.file) });
        continue;
      }
      const per = statsByKey.map((m) => m.get(name)!);
      const mv = scaleMovement(present(maps, name).map((l) => l.weightQuantizer.scale));
      seqLayers.push({
        name: shown(name),
        flipFractions: tr.flipFractions,
        meanReversals: tr.meanReversals,
        reversalShare: tr.reversalShare,
        ...(mv ?? emptyMovement(K)),
        concentration: per.map((l) => l.concentration),
        nearThresholdFraction: per.map((l) => l.nearThresholdFraction),
        flagged: per.map((l) => l.flagged),
      });
    }
    const actNames = [...new Set(actMaps.flatMap((m) => [...m.keys()]))];
    const seqActs: SequenceReport['activations'] = [];
    for (const name of actNames) {
      const qs = actMaps.map((m) => m.get(name));
      if (qs.some((q) => !q)) {
        partial.push({ name, kind: 'activation', presentIn: ordered.filter((_, t) => actMaps[t].has(name)).map((c) => c.file) });
        continue;
      }
      const mv = scaleMovement(qs.map((q) => q!.scale));
      seqActs.push({ name, ...(mv ?? emptyMovement(K)) });
    }
    sequence = {
      order: ordered.map((ck, t) => ({ file: ck.file, epoch: ck.epoch ?? null, variant: variants[t]?.variant ?? '' })),
      orderedBy,
      layers: seqLayers,
      activations: seqActs,
      partial,
      shapeMismatch,
    };
    const vs = new Set(variants.map((v) => v?.variant));
    if (vs.size > 1) notes.push(`the analyzed variant differs between checkpoints (${[...vs].join(', ')}); flips compare them as they are`);
  }

  const modelVsEma: ModelVsEma[] = [];
  ordered.forEach((ck, t) => {
    const ema = emaMaps[t];
    if (!ema) return;
    const model = maps[t];
    let flips = 0;
    let total = 0;
    const layers: ModelVsEma['layers'] = [];
    for (const [key, f] of emaFlips[t]) {
      const n = countOf(model.get(key)!);
      flips += f * n;
      total += n;
      layers.push({ name: model.get(key)!.name, flipFraction: f, scaleRelativeChange: emaScale[t].get(key) ?? NaN });
    }
    modelVsEma.push({
      file: ck.file,
      epoch: ck.epoch ?? null,
      flipFraction: total > 0 ? flips / total : 0,
      layers,
      onlyInModel: [...model].filter(([k]) => !ema.has(k)).map(([, l]) => l.name),
      onlyInEma: [...ema].filter(([k]) => !model.has(k)).map(([, l]) => l.name),
    });
  });

  const integerOnly = last.filter((l) => !l.hasLatent).length;
  if (integerOnly > 0) notes.push(`${integerOnly} of ${last.length} layers store integer weights only: their fractional positions, NT and C are N/A (flips across checkpoints still count)`);
  const mism = last.filter((l) => (l.storedIntegerMismatches ?? 0) > 0);
  if (mism.length > 0)
    notes.push(`${mism.length} layers store integers that differ from clamp(roundHalfEven(W/s + z)) of their latent weights (e.g. torch rounding ties); the stored integers are used for flips`);
  if (last.length === 0) notes.push('no quantized layers found');

  const lastCk = ordered[K - 1];
  const report: AnalysisReport = {
    schema: 'qat-lens/analysis@1',
    summary: {
      model: lastCk.modelClass ?? basename(ordered[0].file),
      format: [...new Set(ordered.map((c) => c.format))].join(', '),
      files: ordered.map((c) => c.file),
      bits: [...new Set(last.map((l) => l.bits))].sort((a, b) => a - b),
      layerCount: last.length,
      flaggedCount: last.filter((l) => l.flagged).length,
      integerOnlyCount: integerOnly,
      notes,
    },
    settings,
    checkpoints: checkpointsOut,
    layers: last,
    activations,
  };
  if (sequence) report.sequence = sequence;
  if (modelVsEma.length > 0) report.modelVsEma = modelVsEma;
  return report;
}

/** Runs f; an engine error without a file gets the checkpoint's file name. */
function inFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof QatLensError && !err.file) throw new QatLensError(err.message, file, err.code);
    throw err;
  }
}

const inAllKeys = (maps: Map<string, QuantizedLayer>[], key: string) => maps.every((m) => m.has(key));

function present(maps: Map<string, QuantizedLayer>[], name: string): QuantizedLayer[] {
  return maps.map((m) => m.get(name)!);
}

function emptyMovement(K: number) {
  return { scaleRelativeChange: new Array(K - 1).fill(NaN), scaleRelativeChangeMax: new Array(K - 1).fill(NaN), scaleCV: NaN, scaleCVMax: NaN, scaleTrajectory: [] as number[] };
}
