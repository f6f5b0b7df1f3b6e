// The precision plan (issue 18, docs/precision.md): which layers should stay at a higher
// bit-width, measured in mAP. Per candidate layer a what-if model re-quantizes that layer's latent
// weights at `bits` (optionally its input activations too), everything else unchanged; a cheap
// first pass ranks the candidates, the top ones are scored in full, and a greedy plan re-scores
// the growing set as a whole.
import { readFileSync } from 'node:fs';
import { QatLensError, throwIfAborted } from '../errors';
import type { JobContext } from '../context';
import { subContext } from '../context';
import { makeScorer, type Scorer } from '../compare/score';
import { softRound } from '../probe/probeMath';
import { probeInputs } from '../probe/probeOutputs';
import { macsOf, outputSizes, weightBytes } from './cost';
import { firstPass, spearman } from './firstPass';
import { greedyPlan, type PlanMode, type PlanOutcome } from './plan';
import { CLIP_RATIOS } from './requantize';
import { loadPrecisionSource, type PrecisionSource } from './source';
import type { PrecisionOptions, PrecisionReport, PrecisionRow, PrecisionScore } from './types';
import { buildWhatIf, refineActivation, requantizedOf, type WhatIfOptions } from './whatIf';

export const DEFAULT_CANDIDATES = 16;

export const SCALE_SEARCH = `per output channel, symmetric integers in [-(2^(b-1)-1), 2^(b-1)-1]; scale s = float32(r·max|w|/(2^(b-1)-1)) with the clipping ratio r from ${CLIP_RATIOS[0].toFixed(2)} down to ${CLIP_RATIOS[CLIP_RATIOS.length - 1].toFixed(2)} in steps of 0.01 that minimises the channel's squared weight error (first minimum)`;

const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(2)}`;

export interface PrecisionResult {
  report: PrecisionReport;
  /** The plan's what-if model (serialised), where the plan holds any layer. */
  planBytes?: Uint8Array;
  source: PrecisionSource;
}

export async function precisionPlan(model: string, o: PrecisionOptions, ctx: JobContext, scorer: Scorer = makeScorer()): Promise<PrecisionResult> {
  const t0 = Date.now();
  const bits = o.bits ?? 8;
  const actOnly = o.activationsOnly === true;
  const wo: WhatIfOptions = { bits, activations: o.activations === true || actOnly, keepWeights: actOnly };
  const what = actOnly ? `${bits}-bit input activations (weights unchanged)` : `${bits}-bit weights${wo.activations ? ' and activations' : ''}`;
  const modes = [o.targetMap !== undefined, o.targetGap !== undefined, o.budget !== undefined, o.layers !== undefined].filter(Boolean).length;
  if (modes > 1) throw new QatLensError('give one of --target-map, --target-gap, --budget and --layers');
  if (o.targetGap !== undefined && !o.float) throw new QatLensError('--target-gap needs the float model (--float FLOAT.onnx) to know the float -> QAT gap');
  ctx.progress({ message: 'loading the model and its latent weights', fraction: 0 });
  const src = await loadPrecisionSource(model, o.latent, o.variant);
  const notes = [...src.probe.notes];
  let cands = src.layers.filter((l) => (actOnly ? (l.act?.bits ?? bits) < bits : l.bits < bits));
  if (o.layers) {
    const want = new Set(o.layers);
    const unknown = o.layers.filter((n) => !src.layers.some((l) => l.name === n || l.key === n || l.node === n));
    if (unknown.length)
      throw new QatLensError(
        `no quantized layer named ${unknown.join(', ')} (layers: ${src.layers
          .slice(0, 6)
          .map((l) => l.name)
          .join(', ')}, ...)`,
        model,
      );
    const high = src.layers.filter((l) => !cands.includes(l) && (want.has(l.name) || want.has(l.key) || want.has(l.node)));
    if (high.length) throw new QatLensError(`${high.map((l) => l.name).join(', ')} already at ${bits} bits or more`, model);
    cands = cands.filter((l) => want.has(l.name) || want.has(l.key) || want.has(l.node));
  }
  const skipped = src.layers.filter((l) => !cands.includes(l)).map((l) => l.name);
  if (cands.length === 0) throw new QatLensError(`every quantized layer is already at ${bits} bits or more: nothing to plan`, model);
  const scoreOpts = { engine: o.engine, limit: o.limit, nms: o.nms };
  let scored = 0;
  const score = async (bytes: Uint8Array | string, label: string, start: number, span: number): Promise<PrecisionScore> => {
    throwIfAborted(ctx.signal);
    const s = await scorer(bytes, o.data, scoreOpts, subContext(ctx, label, start, span));
    scored++;
    return { map: s.map, map50: s.map50, map75: s.map75, engine: s.engine, images: s.images };
  };

  // The baseline is the source model itself: every what-if keeps its other layers byte for byte.
  const baseline = await score(readFileSync(model), 'QAT model', 0.01, 0.04);
  ctx.log('info', `QAT model: mAP@.5:.95 ${(baseline.map * 100).toFixed(2)}, mAP@.5 ${(baseline.map50 * 100).toFixed(2)}`);
  const float = o.float ? await score(o.float, 'float model', 0.05, 0.04) : undefined;
  if (float) ctx.log('info', `float model: mAP@.5:.95 ${(float.map * 100).toFixed(2)}`);

  // Costs and weight errors.
  const sizes = await outputSizes(src.probe.model, cands);
  const rows: PrecisionRow[] = cands.map((l) => {
    const r = requantizedOf(src, l, bits);
    const hard = softRound(l.src.latent, l.shape, l.src.quant, 0, l.src.integers).weights;
    let sse = 0;
    for (let i = 0; i < hard.length; i++) sse += (l.src.latent[i] - hard[i]) ** 2;
    const macs = macsOf(l, sizes.get(l.key) ?? 0);
    const actTo = wo.activations && l.act && refineActivation(l.act, bits) ? bits : l.act?.bits;
    const bytes = weightBytes(l.weights, l.bits, l.src.quant.scale.length);
    const toBits = actOnly ? l.bits : bits;
    const toBytes = actOnly ? bytes : weightBytes(l.weights, bits, r.scale.length);
    const aBits = l.act?.bits ?? 32;
    return {
      name: l.name,
      key: l.key,
      op: l.op,
      shape: l.shape,
      weights: l.weights,
      bits: l.bits,
      toBits,
      actBits: l.act?.bits,
      actToBits: actTo,
      bytes,
      toBytes,
      bytesAdded: toBytes - bytes,
      macs,
      bops: macs * l.bits * aBits,
      toBops: macs * toBits * (actTo ?? aBits),
      weightSse: sse,
      toWeightSse: actOnly ? sse : r.sse.reduce((a, b) => a + b, 0),
    };
  });
  const byKey = new Map(rows.map((r) => [r.key, r]));

  // First pass over every candidate, then full mAP for the top ones.
  const limit = o.candidates === undefined || o.candidates <= 0 ? DEFAULT_CANDIDATES : o.candidates;
  const nScore = Math.min(limit, rows.length);
  const fpImages = o.firstPassImages ?? 8;
  let firstPassMethod = 'none: every candidate layer is scored in full';
  let toScore = rows.map((r) => r.key);
  if (o.layers) {
    firstPassMethod = 'none: the layers given (--layers) are scored in full';
  } else if (nScore < rows.length || o.float) {
    const inputs = await probeInputs(o.data, src.probe.model, fpImages);
    const fp = await firstPass(
      src,
      rows.map((r) => r.key),
      inputs,
      wo,
      subContext(ctx, 'first pass', 0.09, 0.11),
      o.float ? readFileSync(o.float) : undefined,
    );
    for (const f of fp) Object.assign(byKey.get(f.key)!, { change: f.change, towardFloat: f.towardFloat });
    const rank = (r: PrecisionRow) => (o.float ? r.towardFloat! : r.change!);
    firstPassMethod = o.float
      ? `output-error proxy: the share of the QAT model's raw-output error against the float model (mean squared, first output, ${inputs.length} images) that re-quantizing the layer alone removes; highest first`
      : `output-change proxy: how much the raw outputs move (mean squared change over the mean square, first output, ${inputs.length} images) when the layer alone is re-quantized; largest first`;
    toScore = [...rows]
      .sort((a, b) => rank(b) - rank(a))
      .slice(0, nScore)
      .map((r) => r.key);
  }
  const setScores = new Map<string, PrecisionScore>();
  for (const [i, key] of toScore.entries()) {
    const r = byKey.get(key)!;
    const w = buildWhatIf(src, [key], wo, `${r.name} at W${r.toBits}A${r.actToBits ?? '-'}`);
    const s = await score(w.bytes, `${r.name} at ${bits} bits (${i + 1}/${toScore.length})`, 0.2 + (0.55 * i) / toScore.length, 0.55 / toScore.length);
    setScores.set(key, s);
    Object.assign(r, { map: s.map, map50: s.map50, gain: s.map - baseline.map, gain50: s.map50 - baseline.map50 });
    ctx.log('info', `${r.name} at ${bits} bits: mAP@.5:.95 ${(s.map * 100).toFixed(2)} (${pts(s.map - baseline.map)} points)`);
  }

  // The greedy plan, each step re-scored as a whole.
  const targetMap = o.targetMap ?? (o.targetGap !== undefined && float ? baseline.map + o.targetGap * (float.map - baseline.map) : undefined);
  const mode: PlanMode = targetMap !== undefined ? { kind: 'target', map: targetMap } : o.budget !== undefined ? { kind: 'budget', bytes: o.budget } : { kind: 'best' };
  const planCands = rows.filter((r) => r.gain !== undefined).map((r) => ({ key: r.key, gain: r.gain!, bytesAdded: r.bytesAdded }));
  let step = 0;
  const scoreSet = async (keys: string[]): Promise<PrecisionScore> => {
    if (keys.length === 1 && setScores.has(keys[0])) return setScores.get(keys[0])!;
    step++;
    const s = await score(buildWhatIf(src, keys, wo).bytes, `plan: ${keys.length} layers`, 0.75 + 0.2 * Math.min(1, step / Math.max(1, planCands.length)), 0);
    ctx.log('info', `plan of ${keys.length} layers: mAP@.5:.95 ${(s.map * 100).toFixed(2)}`);
    return s;
  };
  let outcome: PlanOutcome;
  if (o.layers) {
    // The given layers are the plan, whatever their single gains: re-scored together once.
    const keys = rows.map((r) => r.key);
    const s = await scoreSet(keys);
    const bytesAdded = rows.reduce((a, r) => a + r.bytesAdded, 0);
    outcome = { keys, bytesAdded, map: s.map, map50: s.map50, steps: [{ key: keys[keys.length - 1], bytesAdded, map: s.map, map50: s.map50, kept: true }] };
  } else {
    outcome = await greedyPlan(planCands, mode, baseline, scoreSet);
  }
  for (const k of outcome.keys) byKey.get(k)!.planned = true;
  const planNames = outcome.keys.map((k) => byKey.get(k)!.name);
  const planBytes = outcome.keys.length ? buildWhatIf(src, outcome.keys, wo, `precision plan: ${planNames.join(', ')} with ${what}`).bytes : undefined;
  const modelBytes = src.layers.reduce((a, l) => a + weightBytes(l.weights, l.bits, l.src.quant.scale.length), 0);
  const gap = float ? float.map - baseline.map : 0,
    gap50 = float ? float.map50 - baseline.map50 : 0;
  const plan: PrecisionReport['plan'] = {
    mode: o.layers ? 'given' : mode.kind,
    targetMap,
    budget: o.budget,
    layers: planNames,
    keys: outcome.keys,
    bytesAdded: outcome.bytesAdded,
    bytesShare: outcome.bytesAdded / modelBytes,
    macs: outcome.keys.reduce((a, k) => a + byKey.get(k)!.macs, 0),
    map: outcome.map,
    map50: outcome.map50,
    gapShare: float && gap !== 0 ? (outcome.map - baseline.map) / gap : undefined,
    gapShare50: float && gap50 !== 0 ? (outcome.map50 - baseline.map50) / gap50 : undefined,
    reached: outcome.reached,
    steps: outcome.steps.map((s) => ({ name: byKey.get(s.key)!.name, bytesAdded: s.bytesAdded, map: s.map, map50: s.map50, kept: s.kept })),
  };

  // Findings and the first pass's quality.
  const scoredRows = rows.filter((r) => r.gain !== undefined);
  const sp =
    scoredRows.length >= 5 && scoredRows.every((r) => r.change !== undefined)
      ? spearman(
          scoredRows.map((r) => r.change!),
          scoredRows.map((r) => r.gain!),
        )
      : undefined;
  const spF =
    scoredRows.length >= 5 && scoredRows.every((r) => r.towardFloat !== undefined)
      ? spearman(
          scoredRows.map((r) => r.towardFloat!),
          scoredRows.map((r) => r.gain!),
        )
      : undefined;
  const findings: string[] = [];
  const up = scoredRows.filter((r) => r.gain! > 0).length;
  findings.push(
    `${scoredRows.length} of ${rows.length} candidate layers scored in full with ${what}: ${up} raised mAP@.5:.95, ${scoredRows.length - up} did not (best ${scoredRows.length ? pts(Math.max(...scoredRows.map((r) => r.gain!))) : '—'}, worst ${scoredRows.length ? pts(Math.min(...scoredRows.map((r) => r.gain!))) : '—'} points)`,
  );
  if (outcome.keys.length) {
    const gapText = plan.gapShare !== undefined ? `, ${(plan.gapShare * 100).toFixed(1)}% of the float → QAT gap` : '';
    findings.push(
      `plan (${o.layers ? 'the layers given, scored together' : mode.kind === 'target' ? `smallest set reaching mAP@.5:.95 ${(targetMap! * 100).toFixed(2)}${outcome.reached ? '' : ' — NOT reached'}` : mode.kind === 'budget' ? `best set within ${o.budget} extra bytes` : 'every layer that raised the re-scored mAP'}): ${outcome.keys.length} layers, +${outcome.bytesAdded} bytes (${(plan.bytesShare * 100).toFixed(1)}% of the quantized weights), mAP@.5:.95 ${(baseline.map * 100).toFixed(2)} → ${(outcome.map * 100).toFixed(2)} (${pts(outcome.map - baseline.map)} points${gapText}), mAP@.5 ${pts(outcome.map50 - baseline.map50)}`,
    );
    const sum = outcome.keys.reduce((a, k) => a + byKey.get(k)!.gain!, 0);
    findings.push(`the single-layer gains of the plan's layers sum to ${pts(sum)} points; the set re-scored as a whole gives ${pts(outcome.map - baseline.map)}`);
  } else {
    findings.push(`no candidate layer raised mAP@.5:.95 with ${what} on its own (or together): the plan is empty and no what-if model is written`);
  }
  if (sp !== undefined)
    findings.push(
      `first pass vs the scored gains: Spearman ${sp.toFixed(2)} for the output change${spF !== undefined ? `, ${spF.toFixed(2)} for the output error against float` : ''} (${scoredRows.length} layers)`,
    );

  if (skipped.length)
    notes.push(
      `${skipped.length} quantized layers are already at ${bits} bits or more${actOnly ? ' on their input (or have no input activation quantizer)' : ''} and are not candidates: ${skipped.join(', ')}`,
    );
  if (!actOnly) notes.push(`weights re-quantized ${SCALE_SEARCH}; stored as int8 behind a per-channel DequantizeLinear`);
  if (wo.activations)
    notes.push(
      `input activations refined to ${bits} bits on the same clipping range: s' = s/2^k, z' = z·2^k, range [qmin·2^k, (qmax+1)·2^k − 1], k = ${bits} − current bits (every current level stays a level)`,
    );
  notes.push(`bytes: integers packed at their width plus float32 scales; MACs per image at the model's input size; bit-operations = MACs × weight bits × activation bits`);
  const limits = [
    "This is a what-if without retraining: the layer's latent weights are re-quantized as they are, while QAT adapted the rest of the network to the low-bit layer. Retraining (or fine-tuning) with the plan's layers at the higher width can do better than these numbers, and the ranking may change.",
    `Single-layer gains on ${baseline.images ?? 'the'} evaluation images below about half a point are within noise; the plan is re-scored as a whole because at low bit-widths the gains do not add up.`,
    'The plan is chosen and scored on the same evaluation split: on a small split it fits that split; confirm it on held-out data.',
  ];
  ctx.progress({ message: 'done', fraction: 1 });
  const report: PrecisionReport = {
    model,
    data: o.data,
    latentFrom: src.probe.latentFrom,
    naming: src.naming,
    bits,
    activations: wo.activations,
    activationsOnly: actOnly,
    baseline,
    float,
    layers: rows,
    skipped,
    firstPass: { method: firstPassMethod, images: nScore < rows.length || o.float ? fpImages : 0, ranked: rows.length, scored: scoredRows.length, spearman: sp, spearmanFloat: spF },
    plan,
    modelBytes,
    scaleSearch: SCALE_SEARCH,
    findings,
    limits,
    notes,
    seconds: (Date.now() - t0) / 1000,
    scored,
  };
  return { report, planBytes, source: src };
}
