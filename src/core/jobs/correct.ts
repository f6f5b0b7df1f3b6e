// Job "correct": Quantization Correction (src/core/qc/runQC.ts), the corrected model written
// atomically beside (never over) the input, mAP before and after on the evaluation split.
import type { NmsOptions } from '../infer/nms';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { attachIntervals } from '../compare/intervals';
import { makeScorer, type Scored } from '../compare/score';
import type { CompareEntry } from '../compare/types';
import type { BootstrapInfo, MapDiff } from '../eval/bootstrap';
import { CancelledError, QatLensError, throwIfAborted } from '../errors';
import { atomicWrite } from '../io/atomicWrite';
import { saveModel } from '../onnx/proto';
import type { AugmentOptions } from '../qc/augment';
import { type LossFamily, type QcOutcome, runQC } from '../qc/runQC';
import type { QcTimings } from '../qc/train';
import type { JobContext } from '../context';

export interface CorrectParams {
  model: string;
  /** Evaluation data set (mAP before/after on its val split). */
  data: string;
  /** Calibration images: a split of `data` ("calib", "train") or another data set path. */
  calib?: string;
  steps?: number;
  lr?: number;
  out: string;
  /** onnxruntime engine for training and for the mAP. */
  engine?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  jsonOut?: string;
  /** Calibration images per Adam step. */
  batch?: number;
  /** How many calibration images to draw from. */
  calibCount?: number;
  /** Images per forward/backward in training (default: chosen from memory). */
  microBatch?: number;
  /** Epochs over the training images (sets the steps). */
  epochs?: number;
  /** Learning-rate schedule: constant (default) or cosine. */
  schedule?: 'constant' | 'cosine';
  /** Images to choose the step on by mAP: N calibration images held out, or a split of `data` (none: keep the last step). */
  holdout?: number | string;
  /** YOLOv5's augmentations of the training images. */
  augment?: AugmentOptions;
  /** Seed of QC's image order and augmentation. */
  qcSeed?: number;
  selectEvery?: number;
  /** Score only the first N evaluation images. */
  limit?: number;
  /** Training input size where the model's is dynamic. */
  imgsz?: number;
  /** `--anchors` (W,H,.../... or a model yaml): needed by raw-head exports, checked against a decode. */
  anchors?: string;
  /** The qatLens.anchors setting (same forms). */
  anchorsSetting?: string;
  /** The loss to train with (default: the head family's own). */
  loss?: LossFamily;
  /** Skip the before/after mAP (a caller that scores the models itself). */
  evaluate?: boolean;
  /** NMS settings for the before/after mAP. */
  nms?: Partial<NmsOptions>;
  /** Bootstrap resamples for the interval of the change (default 1000; 0: none) and their seed. */
  bootstrap?: number;
  seed?: number;
}

/** What QC did (backend, steps, loss curve, per-layer γ/β...) as runQC reports it, plus the scores. */
export interface CorrectResult extends Pick<
  QcOutcome,
  | 'device'
  | 'engineNotes'
  | 'heads'
  | 'objective'
  | 'steps'
  | 'lr'
  | 'batch'
  | 'microBatch'
  | 'peakMemoryMB'
  | 'schedule'
  | 'heldOut'
  | 'calib'
  | 'lossCurve'
  | 'perLayer'
  | 'clampedChannels'
  | 'sourceSha256'
> {
  kind: 'correct';
  out: string;
  /** mAP@.5:.95 on the evaluation split, before and after (undefined when not evaluated). */
  mapBefore?: number;
  mapAfter?: number;
  /** The full scores (mAP@.5, per class, PR curves) as the panel reads them. */
  before?: Scored;
  after?: Scored;
  /** after − before with its 95% paired bootstrap interval over the evaluation images. */
  change?: MapDiff;
  bootstrap?: BootstrapInfo;
  timings: QcTimings & { setupMs: number; evalMs: number };
  jsonOut?: string;
}

export async function runCorrect(p: CorrectParams, ctx: JobContext): Promise<CorrectResult> {
  // Checked before training too (saveModel checks again): minutes of fitting must not end in this error.
  if (resolve(p.out) === resolve(p.model)) throw new QatLensError('refusing to write over an input file; choose another output path', p.out);
  const qc = await runQC(
    p.model,
    {
      data: p.data,
      calib: p.calib,
      steps: p.steps,
      lr: p.lr,
      batch: p.batch,
      calibCount: p.calibCount,
      engine: p.engine,
      microBatch: p.microBatch,
      epochs: p.epochs,
      schedule: p.schedule,
      holdout: p.holdout,
      selectEvery: p.selectEvery,
      augment: p.augment,
      seed: p.qcSeed,
      imgsz: p.imgsz,
      anchors: p.anchors,
      anchorsSetting: p.anchorsSetting,
      loss: p.loss,
    },
    ctx,
  );
  throwIfAborted(ctx.signal);
  await saveModel(qc.model, p.out, { signal: ctx.signal, inputs: [p.model] });
  ctx.log('info', `QC: wrote ${p.out}`);
  let before: Scored | undefined, after: Scored | undefined;
  const te = performance.now();
  if (p.evaluate !== false) {
    try {
      const score = makeScorer();
      const anchorSources = { flag: p.anchors, setting: p.anchorsSetting, data: p.data };
      before = await score(p.model, p.data, { engine: p.engine, limit: p.limit, nms: p.nms, anchorSources }, ctx);
      after = await score(p.out, p.data, { engine: p.engine, limit: p.limit, nms: p.nms, anchorSources }, ctx);
    } catch (err) {
      if (err instanceof CancelledError) {
        // A cancelled run leaves nothing behind, the corrected model included.
        await rm(p.out, { force: true });
        throw err;
      }
      ctx.log('warn', `QC: mAP before/after not measured: ${(err as Error).message}`);
    }
  }
  let change: MapDiff | undefined, bootstrap: BootstrapInfo | undefined;
  if (before && after) {
    const rows: CompareEntry[] = [
      { ...before, label: 'QAT', role: 'qat' },
      { ...after, label: 'QC', role: 'qc' },
    ];
    bootstrap = attachIntervals(rows, undefined, { resamples: p.bootstrap, seed: p.seed });
    change = rows[1].vsRef;
    delete before.perImage;
    delete after.perImage;
  }
  const r: CorrectResult = {
    kind: 'correct',
    out: p.out,
    heads: qc.heads,
    objective: qc.objective,
    device: qc.device,
    engineNotes: qc.engineNotes,
    steps: qc.steps,
    lr: qc.lr,
    batch: qc.batch,
    microBatch: qc.microBatch,
    peakMemoryMB: qc.peakMemoryMB,
    schedule: qc.schedule,
    heldOut: qc.heldOut,
    calib: qc.calib,
    lossCurve: qc.lossCurve,
    perLayer: qc.perLayer,
    clampedChannels: qc.clampedChannels,
    sourceSha256: qc.sourceSha256,
    mapBefore: before?.map,
    mapAfter: after?.map,
    before,
    after,
    change,
    bootstrap,
    timings: { ...qc.timings, evalMs: performance.now() - te },
    jsonOut: p.jsonOut,
  };
  if (p.jsonOut) await atomicWrite(p.jsonOut, JSON.stringify(r, null, 2) + '\n', { inputs: [p.model, p.out] });
  return r;
}
