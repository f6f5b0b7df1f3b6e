// Quantization Correction end to end, without writing anything: resolve the labelled calibration
// images (refusing the evaluation split), generate the γ/β gradient graphs on an onnxruntime engine
// (src/core/train), fit γ/β (train.ts), fold them into a new model.
// The "correct" job writes the result; the compare/example jobs can score it in memory.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { QatLensError } from '../errors';
import { type Dataset, type LabelledImage, labelledImages, openDataset } from '../data/dataset';
import { quietContext, type JobContext } from '../context';
import { evaluateModel } from '../infer/pipeline';
import type { EngineChoice } from '../infer/engine';
import { indexGraph } from '../onnx/graph';
import { decodeModel, onnx } from '../onnx/proto';
import { createGradEngine } from '../train/engine';
import { foldQC } from './fold';
import { findHeads, findQuantLayers, type HeadSpec } from './heads';
import { givenAnchors } from '../infer/anchors';
import { formatAnchors } from '../infer/detectHead';
import { lossFor } from './loss';
import type { AugmentOptions } from './augment';
import { HOLDOUT_SPLIT } from './holdout';
import { MB } from './memory';
import { calibSource, type LrSchedule, trainQC, type QcTimings } from './train';

export const QC_DEFAULTS = { steps: 200, lr: 1e-3, batch: 16, calibCount: 256 } as const;
/** The split the evaluation (mAP) jobs score: QC never trains on it. */
export const EVAL_SPLIT = 'val';

export interface QcOptions {
  /** Evaluation data set (its evaluation split is refused for calibration). */
  data: string;
  /** Calibration: a split name of `data` ("calib", "train") or a data set path. Default: calib, else train. */
  calib?: string;
  steps?: number;
  lr?: number;
  batch?: number;
  calibCount?: number;
  /** onnxruntime engine that trains: auto (CUDA, else a hardware WebGPU adapter, else CPU), cpu, webgpu, cuda. */
  engine?: EngineChoice;
  /** Images per forward/backward (default: chosen from the first step's memory and the memory free). */
  microBatch?: number;
  /** CPU threads (default: every core). */
  threads?: number;
  /** Epochs over the training images: sets the steps (ceil(epochs · images / batch)) instead of `steps`. */
  epochs?: number;
  /** Learning-rate schedule (default constant; cosine: YOLOv5's one-cycle down to lr·0.01). */
  schedule?: LrSchedule;
  /**
   * Images to choose the step on (never trained on; the γ/β of the best mAP@.5:.95 on them are kept):
   * a number holds out that many more calibration images, a name is a split of `data` (e.g. "holdout"),
   * "auto" is the split "holdout" where `data` has one (else none: the last step is kept).
   */
  holdout?: number | string;
  /** With `holdout`: score every N steps (default: about 10 times per run). */
  selectEvery?: number;
  /** Training input size where the model's is dynamic (default 640). */
  imgsz?: number;
  /** `--anchors` and the qatLens.anchors setting (W,H,.../... or a model yaml): for raw-head exports. */
  anchors?: string;
  anchorsSetting?: string;
  /** The loss to train with (default: the head family's; a raw yolov5/v7 export: YOLOv5's). */
  loss?: LossFamily;
  /** Seed of the image order and the augmentation. */
  seed?: number;
  /** YOLOv5's augmentations of the training images (default none). */
  augment?: AugmentOptions;
}

export interface QcLayerSummary {
  name: string;
  channels: number;
  gammaMin: number;
  gammaMax: number;
  gammaMean: number;
  betaMin: number;
  betaMax: number;
  betaMean: number;
  perTensorBecamePerChannel: boolean;
  biasAdded: boolean;
}

export interface QcOutcome {
  model: onnx.ModelProto;
  /** The loss QC trained with (the head family's own). */
  objective: string;
  bytes: Uint8Array;
  /** The onnxruntime engine that trained, e.g. 'cpu (2 shards x 1 thread)', 'webgpu (NVIDIA H200)', 'cuda'. */
  device: string;
  /** Why other engines were passed over. */
  engineNotes: string[];
  steps: number;
  lr: number;
  batch: number;
  /** Images per forward/backward (gradients accumulated over the batch). */
  microBatch: number;
  /** Peak resident memory of the process while training, MB. */
  peakMemoryMB: number;
  schedule: LrSchedule;
  /** With a held-out slice: its size, the mAP at each scored step (0 = before training) and the step kept. */
  heldOut?: { images: number; split?: string; curve: { step: number; map: number; map50: number }[]; keptStep: number };
  lossCurve: number[];
  perLayer: QcLayerSummary[];
  /** Channels whose γ reached the 1e-3 floor (kept positive to fold into a scale). */
  clampedChannels: number;
  calib: { source: string; split: string; images: number };
  heads: HeadSpec;
  imgsz: [number, number];
  sourceSha256: string;
  timings: QcTimings & { setupMs: number };
}

/** The data set restricted to some of its images (ground truth included). */
function subset(ds: Dataset, images: LabelledImage[]): Dataset {
  const ids = new Set(images.map((im) => im.id));
  return {
    ...ds,
    images: ds.images.filter((im) => ids.has(im.id)),
    gt: { ...ds.gt, images: ds.gt.images.filter((im) => ids.has(im.id)), annotations: ds.gt.annotations.filter((a) => ids.has(a.image_id)) },
  };
}

/** Labelled calibration images; the evaluation split (or any image of it) is refused. */
export async function resolveCalibration(data: string, calib: string | undefined, count: number): Promise<{ images: LabelledImage[]; dataset: Dataset; source: string; split: string }> {
  let src = data,
    splits: string[];
  if (calib === undefined) splits = ['calib', 'train'];
  else if (!existsSync(calib) && /^[\w.-]+$/.test(calib)) splits = [calib];
  else {
    src = calib;
    splits = ['calib', 'train'];
  }
  const sameSet = resolve(src) === resolve(data);
  if (sameSet && splits.includes(EVAL_SPLIT)) {
    throw new QatLensError(`refusing to calibrate QC on the evaluation split "${EVAL_SPLIT}": QC must not see the images it is scored on; use the calibration or training split`, data, 'EEVALSPLIT');
  }
  let got: { images: LabelledImage[]; dataset: Dataset; split: string } | undefined;
  const errors: string[] = [];
  for (const split of splits) {
    try {
      const r = await labelledImages(src, split, { limit: count });
      got = { images: r.images, dataset: r.dataset, split };
      break;
    } catch (err) {
      errors.push(`${split}: ${(err as Error).message}`);
    }
  }
  if (!got) throw new QatLensError(`no labelled calibration images (${errors.join('; ')})`, src, 'ENOCALIB');
  if (!got.images.length) throw new QatLensError(`calibration split "${got.split}" has no images`, src, 'ENOCALIB');
  // A different path can still hold the evaluation images: compare the files themselves.
  let evalFiles: Set<string> | undefined;
  try {
    evalFiles = new Set((await openDataset(data, { split: EVAL_SPLIT, checkFiles: false })).images.map((im) => resolve(im.file)));
  } catch {
    evalFiles = undefined; // no evaluation split to collide with
  }
  const shared = evalFiles ? got.images.filter((im) => evalFiles!.has(resolve(im.file))).length : 0;
  if (shared) {
    throw new QatLensError(`refusing to calibrate QC on images of the evaluation split: ${shared} of the ${got.images.length} calibration images are evaluation images`, src, 'EEVALSPLIT');
  }
  return { images: got.images, dataset: got.dataset, source: src, split: got.split };
}

async function hasSplit(data: string, split: string): Promise<boolean> {
  try {
    await openDataset(data, { split, checkFiles: false });
    return true;
  } catch (err) {
    // Only a split the data set does not list counts as absent; a listed but broken one is an error.
    if (err instanceof QatLensError && err.code === 'ENOSPLIT') return false;
    throw err;
  }
}

/** The images of split `split` of `data` for choosing the step: never the evaluation split, never a training image. */
async function heldOutSplit(data: string, split: string, train: LabelledImage[]): Promise<{ images: LabelledImage[]; dataset: Dataset }> {
  if (split === EVAL_SPLIT) throw new QatLensError(`refusing to choose the QC step on the evaluation split "${EVAL_SPLIT}": it would score the step it chose; name another split`, data, 'EEVALSPLIT');
  const r = await resolveCalibration(data, split, Number.MAX_SAFE_INTEGER);
  const trained = new Set(train.map((im) => resolve(im.file)));
  const both = r.images.filter((im) => trained.has(resolve(im.file))).length;
  if (both) throw new QatLensError(`the held-out split "${split}" shares ${both} images with the calibration images QC trains on`, data, 'EHOLDOUT');
  return { images: r.images, dataset: r.dataset };
}

const stats = (a: Float32Array) => {
  let mn = Infinity,
    mx = -Infinity,
    s = 0;
  for (const v of a) {
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
    s += v;
  }
  return [mn, mx, s / a.length];
};

export type LossFamily = 'yolov5' | 'yolov7' | 'yolov8';
export const LOSS_FAMILIES: readonly LossFamily[] = ['yolov5', 'yolov7', 'yolov8'];

/** The loss a head trains with: the one asked for, else the family's own (a raw yolov5/v7 export: YOLOv5's). */
function lossFamily(h: HeadSpec, asked: LossFamily | undefined, file: string): LossFamily {
  const own: LossFamily = h.family === 'yolov8' ? 'yolov8' : h.family === 'yolov7' ? 'yolov7' : 'yolov5';
  if (asked && (asked === 'yolov8') !== (own === 'yolov8')) {
    throw new QatLensError(
      `--loss ${asked} does not fit the model's ${h.family} head (${own === 'yolov8' ? 'anchor-free' : 'anchor-based'}); use --loss ${own === 'yolov8' ? 'yolov8' : 'yolov5 or yolov7'}`,
      file,
      'EUSAGE',
    );
  }
  return asked ?? own;
}
const OBJECTIVE = {
  yolov5: 'YOLOv5 detection loss (ComputeLoss: CIoU box, BCE objectness and classes)',
  yolov7: 'YOLOv7 detection loss (ComputeLossOTA: OTA assignment, CIoU box, BCE objectness and classes)',
  yolov8: "ultralytics' v8 detection loss (task-aligned assigner, CIoU + DFL box, BCE classes)",
} as const;

function lossOf(h: HeadSpec, fam: LossFamily, imgsz: [number, number]) {
  return fam === 'yolov8' ? lossFor('yolov8', { strides: h.strides, nc: h.nc, regMax: h.regMax }) : lossFor(fam, { anchors: h.anchors, strides: h.strides, nc: h.nc, imgsz: imgsz[0] });
}

export async function runQC(modelPath: string, o: QcOptions, ctx: JobContext): Promise<QcOutcome> {
  const t0 = performance.now();
  const lr = o.lr ?? QC_DEFAULTS.lr,
    batchReq = o.batch ?? QC_DEFAULTS.batch,
    schedule = o.schedule ?? 'constant';
  // "auto": the data set's own holdout split where it has one, else no step choice.
  const holdoutSplit = o.holdout === 'auto' ? ((await hasSplit(o.data, HOLDOUT_SPLIT)) ? HOLDOUT_SPLIT : undefined) : typeof o.holdout === 'string' ? o.holdout : undefined;
  const holdout = typeof o.holdout === 'number' ? o.holdout : 0;
  let bytes: Buffer;
  try {
    bytes = readFileSync(modelPath);
  } catch (err) {
    throw new QatLensError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, modelPath, 'EREAD');
  }
  const sourceSha256 = createHash('sha256').update(bytes).digest('hex');
  const calib = await resolveCalibration(o.data, o.calib, (o.calibCount ?? QC_DEFAULTS.calibCount) + holdout);
  const trainImages = holdout ? calib.images.slice(0, -holdout) : calib.images;
  if (!trainImages.length)
    throw new QatLensError(`the calibration split "${calib.split}" has ${calib.images.length} images: none left to train on after holding out ${holdout}`, calib.source, 'ENOCALIB');
  const heldFrom = holdoutSplit ? await heldOutSplit(o.data, holdoutSplit, trainImages) : { images: holdout ? calib.images.slice(-holdout) : [], dataset: calib.dataset };
  const held = heldFrom.images;
  ctx.log(
    'info',
    `QC calibration: ${trainImages.length} labelled images of split "${calib.split}" of ${calib.source}${held.length ? `, ${held.length} more${holdoutSplit ? ` (split "${holdoutSplit}")` : ''} held out to choose the step` : ''}`,
  );
  const model = decodeModel(bytes, modelPath);
  const layers = findQuantLayers(indexGraph(model.graph!));
  if (!layers.length) throw new QatLensError('no quantized Conv/Gemm (weight through DequantizeLinear) to correct: QC needs a QDQ model', modelPath, 'ENOQUANT');
  const inits = new Set((model.graph!.initializer ?? []).map((t) => t.name));
  const dims = ((model.graph!.input ?? []).find((i) => !inits.has(i.name))?.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined,
  );
  const imgsz: [number, number] = dims[2] && dims[3] ? [dims[2], dims[3]] : [o.imgsz ?? 640, o.imgsz ?? 640];
  const heads = await findHeads(model, modelPath, imgsz, { given: givenAnchors({ flag: o.anchors, setting: o.anchorsSetting, data: o.data, model }) });
  const lossFam = lossFamily(heads, o.loss, modelPath);
  const objective = OBJECTIVE[lossFam];
  ctx.log(
    'info',
    `QC: ${layers.length} quantized layers, ${heads.outputs.length} heads: ${heads.family}, strides ${heads.strides.join(', ')}, ${heads.anchors.length ? `anchors ${formatAnchors(heads.anchors)} (from ${heads.anchorSource})` : `anchor-free (reg_max ${heads.regMax})`}, ${heads.nc} classes, input ${imgsz[0]}x${imgsz[1]}; loss: ${objective}`,
  );
  if (heads.family === 'yolov5/v7' && !o.loss) ctx.log('info', "QC: a raw export does not say whether it is YOLOv5 or YOLOv7: it trains with YOLOv5's loss (--loss yolov7 for YOLOv7's)");
  const maxCls = Math.max(-1, ...calib.images.flatMap((im) => Array.from(im.classes)));
  if (maxCls >= heads.nc) throw new QatLensError(`calibration labels use class ${maxCls} but the model has ${heads.nc} classes`, calib.source, 'ECLASSES');
  const engine = await createGradEngine(model, modelPath, { engine: o.engine ?? 'auto', layers, heads: heads.outputs, threads: o.threads, imgsz });
  try {
    for (const n of engine.notes) ctx.log('info', `QC engine: ${n}`);
    ctx.log('info', `QC trains on onnxruntime ${engine.device}`);
    const loss = lossOf(heads, lossFam, imgsz);
    const src = calibSource(trainImages, imgsz);
    const batch = Math.min(batchReq, src.count);
    const steps = o.epochs ? Math.max(1, Math.ceil((o.epochs * src.count) / batch)) : (o.steps ?? QC_DEFAULTS.steps);
    // Step selection: fold the current γ/β into the model and score it on the held-out images.
    const heldSet = held.length ? subset(heldFrom.dataset, held) : undefined;
    const cache = new Map();
    const select = heldSet && {
      every: o.selectEvery ?? Math.max(1, Math.round(steps / 10)),
      score: async (gm: Map<string, Float32Array>, bt: Map<string, Float32Array>, step: number) => {
        const m = foldQC(model, modelPath, layers, gm, bt).model;
        const r = await evaluateModel(
          onnx.ModelProto.encode(m).finish(),
          heldSet,
          { engine: o.engine, cache, name: modelPath, anchorSources: { flag: o.anchors, setting: o.anchorsSetting, data: o.data } },
          quietContext(ctx.signal),
        );
        const sc = { map: r.eval.stats[0], map50: r.eval.stats[1] };
        ctx.log('info', `QC held-out mAP at step ${step}: ${(100 * sc.map).toFixed(2)} (mAP@.5 ${(100 * sc.map50).toFixed(2)})`);
        return sc;
      },
    };
    const setupMs = performance.now() - t0;
    const fit = await trainQC({ engine, loss, layers, heads }, src, {
      steps,
      lr,
      batch,
      schedule,
      select,
      seed: o.seed,
      augment: o.augment,
      signal: ctx.signal,
      microBatch: o.microBatch,
      onMicroBatch: (m, why) => ctx.log('info', `QC micro-batch: ${m} of ${batch} images per forward/backward (${why})`),
      onProgress: (step, l) => ctx.progress({ message: `QC step ${step}/${steps}: loss ${l.toFixed(4)}`, fraction: step / steps, metrics: { loss: l, step } }),
    });
    const peakMemoryMB = Math.round(fit.peakRssBytes / MB);
    ctx.log('info', `QC: peak memory ${peakMemoryMB} MB, ${(fit.timings.cpuMs / fit.timings.totalMs).toFixed(2)} cores busy on average`);
    const metadata = {
      'qat_lens.qc.objective': `${objective} with labels`,
      'qat_lens.qc.steps': String(steps),
      'qat_lens.qc.lr': String(lr),
      'qat_lens.qc.lr_schedule': schedule,
      'qat_lens.qc.batch': String(batch),
      'qat_lens.qc.optimizer': 'Adam(0.9, 0.999, 1e-8)',
      'qat_lens.qc.calibration_images': String(trainImages.length),
      ...(fit.keptStep !== undefined
        ? { 'qat_lens.qc.kept_step': `${fit.keptStep} (best held-out mAP@.5:.95 of ${held.length} images not trained on${holdoutSplit ? `, split ${holdoutSplit}` : ''})` }
        : {}),
      'qat_lens.qc.calibration_set': `${calib.source} [${calib.split}]`,
      'qat_lens.qc.source_sha256': sourceSha256,
      'qat_lens.qc.engine': `onnxruntime ${engine.device}`,
    };
    const folded = foldQC(model, modelPath, layers, fit.gamma, fit.beta, { metadata });
    const perLayer = layers.map((l, i) => {
      const [gammaMin, gammaMax, gammaMean] = stats(fit.gamma.get(l.name)!);
      const [betaMin, betaMax, betaMean] = stats(fit.beta.get(l.name)!);
      const f = folded.layers[i];
      return { name: l.name, channels: l.channels, gammaMin, gammaMax, gammaMean, betaMin, betaMax, betaMean, perTensorBecamePerChannel: f.perTensorBecamePerChannel, biasAdded: f.biasAdded };
    });
    const converted = perLayer.filter((l) => l.perTensorBecamePerChannel).length;
    if (converted) ctx.log('info', `QC: ${converted} per-tensor weight quantizers became per-channel (γ folds into one scale per output channel)`);
    if (fit.clampedChannels) ctx.log('warn', `QC: γ of ${fit.clampedChannels} channels reached the floor 1e-3 (kept positive so it folds into a scale)`);
    return {
      model: folded.model,
      bytes: onnx.ModelProto.encode(folded.model).finish(),
      device: engine.device,
      engineNotes: engine.notes,
      steps,
      lr,
      batch,
      microBatch: fit.microBatch,
      peakMemoryMB,
      schedule,
      ...(fit.heldOut ? { heldOut: { images: held.length, ...(holdoutSplit ? { split: holdoutSplit } : {}), curve: fit.heldOut, keptStep: fit.keptStep! } } : {}),
      lossCurve: fit.lossCurve,
      perLayer,
      clampedChannels: fit.clampedChannels,
      calib: { source: calib.source, split: calib.split, images: trainImages.length },
      heads,
      objective,
      imgsz,
      sourceSha256,
      timings: { ...fit.timings, setupMs },
    };
  } finally {
    await engine.dispose();
  }
}
