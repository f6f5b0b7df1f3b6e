import { at50, diffText } from '../../core/compare/diffText';
import type { CorrectResult } from '../../core/jobs/correct';
import { formatAnchors } from '../../core/infer/detectHead';
import { YOLOV5_HSV } from '../../core/qc/augment';
import { parseHoldout } from '../../core/qc/holdout';
import { LOSS_FAMILIES, type LossFamily } from '../../core/qc/runQC';
import { ANCHORS_HELP, BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, bootstrapOf, type Command, engineOf, num, str, UsageError } from '../command';

/** `--holdout`: a positive whole number of calibration images, or the name of a split. */
export function holdoutOf(h: string | undefined): number | string | undefined {
  if (h === undefined) return undefined;
  const v = parseHoldout(h);
  if (v === undefined) throw new UsageError(`--holdout must be a positive whole number or a split name; got "${h}"`);
  return v;
}

export const correct: Command = {
  name: 'correct',
  summary: 'Quantization Correction: fit per-channel γ/β with the detection loss, write a corrected ONNX',
  usage: 'MODEL.onnx --data DATASET --out FILE.onnx [--calib DATASET_OR_SPLIT] [--steps N] [--lr X] [--batch N] [--engine E] [--json FILE]',
  help: [
    '  --data PATH        evaluation data set (mAP before and after, on its val split)',
    '  --calib PATH       labelled calibration images: a split of --data ("calib", "train") or another',
    "                     data set (default: the data set's calib split, else train; never val)",
    '  --steps N          Adam steps (default 200)',
    '  --lr X             Adam learning rate (default 1e-3; the paper used 1e-4)',
    '  --batch N          calibration images per step (default 16)',
    '  --calib-images N   calibration images to draw from (default 256)',
    '  --epochs E         epochs over the calibration images (sets --steps: ceil(E x images / batch))',
    "  --lr-schedule S    constant (default) or cosine (YOLOv5's one-cycle, down to lr x 0.01)",
    '  --holdout H        choose the step on images never trained on: N more calibration images held out,',
    '                     a split of --data (e.g. holdout; never val), or auto (the holdout split where',
    '                     --data has one); the step whose corrected model scores the best mAP@.5:.95',
    '                     on them is kept (default: none, the last step)',
    '  --fliplr P         mirror each training image left-right with probability P (default 0)',
    "  --hsv              YOLOv5's HSV augmentation of the training images (gains 0.015, 0.7, 0.4)",
    '  --qc-seed S        seed of the image order and the augmentation (default 0)',
    '  --select-every K   with --holdout: score every K steps (default: about 10 times a run)',
    '  --micro-batch N    images per forward/backward (default: chosen from the memory free; the',
    "                     gradient is the whole batch's either way)",
    "  --imgsz N          training input size where the model's is dynamic (default 640)",
    '  --limit N          score only the first N evaluation images',
    '  --out FILE         corrected ONNX model to write (never the input)',
    '  --engine E         onnxruntime engine for training and mAP: auto (default), cpu, webgpu or cuda',
    '  --json FILE        write the report as JSON',
    BOOTSTRAP_HELP,
    "  --loss L           detection loss: yolov5, yolov7 (ComputeLossOTA) or yolov8 (default: the head family's own;\n                     a raw YOLOv5/v7 export: yolov5)",
    ANCHORS_HELP,
  ].join('\n'),
  options: {
    data: { type: 'string' },
    calib: { type: 'string' },
    steps: { type: 'string' },
    lr: { type: 'string' },
    batch: { type: 'string' },
    'calib-images': { type: 'string' },
    backend: { type: 'string' },
    'micro-batch': { type: 'string' },
    epochs: { type: 'string' },
    'lr-schedule': { type: 'string' },
    holdout: { type: 'string' },
    'select-every': { type: 'string' },
    fliplr: { type: 'string' },
    hsv: { type: 'boolean' },
    'qc-seed': { type: 'string' },
    imgsz: { type: 'string' },
    limit: { type: 'string' },
    out: { type: 'string' },
    engine: { type: 'string' },
    json: { type: 'string' },
    ...BOOTSTRAP_OPTIONS,
    anchors: { type: 'string' },
    loss: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  inputs: (v, pos) => [pos[0]!, str(v, 'data')!],
  request: (v, pos) => {
    const data = str(v, 'data');
    const out = str(v, 'out');
    if (!data) throw new UsageError('--data is required');
    if (!out) throw new UsageError('--out is required');
    if (str(v, 'backend') !== undefined) throw new UsageError('--backend (TensorFlow.js) is gone: QC trains on onnxruntime; use --engine auto|cpu|webgpu|cuda');
    const loss = str(v, 'loss');
    if (loss !== undefined && !(LOSS_FAMILIES as readonly string[]).includes(loss)) throw new UsageError(`--loss must be one of ${LOSS_FAMILIES.join(', ')}; got "${loss}"`);
    const posInt = (n: number) => Number.isInteger(n) && n > 0;
    const schedule = str(v, 'lr-schedule');
    if (schedule !== undefined && schedule !== 'constant' && schedule !== 'cosine') throw new UsageError(`--lr-schedule must be constant or cosine; got "${schedule}"`);
    return {
      kind: 'correct',
      params: {
        model: pos[0]!,
        data,
        out,
        calib: str(v, 'calib'),
        steps: num(v, 'steps', posInt, 'a positive whole number'),
        lr: num(v, 'lr', (n) => n > 0, 'a positive number'),
        batch: num(v, 'batch', posInt, 'a positive whole number'),
        calibCount: num(v, 'calib-images', posInt, 'a positive whole number'),
        microBatch: num(v, 'micro-batch', posInt, 'a positive whole number'),
        epochs: num(v, 'epochs', (n) => n > 0, 'a positive number'),
        schedule: schedule as 'constant' | 'cosine' | undefined,
        holdout: holdoutOf(str(v, 'holdout')),
        augment: { fliplr: num(v, 'fliplr', (n) => n >= 0 && n <= 1, 'a probability from 0 to 1'), ...(v.hsv === true ? { hsv: YOLOV5_HSV } : {}) },
        qcSeed: num(v, 'qc-seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number'),
        selectEvery: num(v, 'select-every', posInt, 'a positive whole number'),
        imgsz: num(v, 'imgsz', (n) => posInt(n) && n % 32 === 0, 'a positive multiple of 32'),
        limit: num(v, 'limit', posInt, 'a positive whole number'),
        ...bootstrapOf(v),
        engine: engineOf(v),
        anchors: str(v, 'anchors'),
        loss: loss as LossFamily | undefined,
        jsonOut: str(v, 'json'),
      },
    };
  },
  print: (res, out) => {
    const r = res as CorrectResult;
    const pct = (x: number | undefined) => (x === undefined ? '   -  ' : (100 * x).toFixed(2).padStart(6));
    out(`QC: ${r.steps} Adam steps (lr ${r.lr}${r.schedule === 'cosine' ? ' cosine' : ''}, batch ${r.batch}) on ${r.calib.images} labelled images of split "${r.calib.split}" (${r.calib.source})`);
    out(`trained on onnxruntime ${r.device}, micro-batch ${r.microBatch}, peak memory ${r.peakMemoryMB} MB${r.engineNotes.length ? ` (${r.engineNotes.join('; ')})` : ''}`);
    if (r.heads)
      out(
        `heads: ${r.heads.family}, strides ${r.heads.strides.join('/')}, ${r.heads.anchors.length ? `anchors ${formatAnchors(r.heads.anchors)} (from ${r.heads.anchorSource})` : 'anchor-free'}, ${r.heads.nc} classes; loss: ${r.objective}`,
      );
    if (r.heldOut) {
      out(`step kept: ${r.heldOut.keptStep} of ${r.steps}, by mAP@.5:.95 on ${r.heldOut.images} held-out images (not trained on${r.heldOut.split ? `; split "${r.heldOut.split}"` : ''}):`);
      out('  ' + r.heldOut.curve.map((p) => `${p.step}: ${(100 * p.map).toFixed(2)}`).join('  '));
    }
    const c = r.lossCurve;
    if (c.length) {
      const k = Math.min(5, c.length);
      const head = c.slice(0, k).reduce((a, b) => a + b, 0) / k,
        tail = c.slice(-k).reduce((a, b) => a + b, 0) / k;
      out(`loss: ${c[0].toFixed(4)} at step 1 -> ${c[c.length - 1].toFixed(4)} at step ${c.length} (mean of first/last ${k}: ${head.toFixed(4)} -> ${tail.toFixed(4)})`);
    }
    out('');
    out(`${'layer'.padEnd(36)} ${'ch'.padStart(4)}  ${'γ min'.padStart(7)} ${'γ mean'.padStart(7)} ${'γ max'.padStart(7)}  ${'β min'.padStart(8)} ${'β mean'.padStart(8)} ${'β max'.padStart(8)}`);
    for (const l of r.perLayer) {
      const name = l.name.length > 36 ? '…' + l.name.slice(-35) : l.name;
      out(
        `${name.padEnd(36)} ${String(l.channels).padStart(4)}  ${l.gammaMin.toFixed(4).padStart(7)} ${l.gammaMean.toFixed(4).padStart(7)} ${l.gammaMax.toFixed(4).padStart(7)}  ${l.betaMin.toFixed(4).padStart(8)} ${l.betaMean.toFixed(4).padStart(8)} ${l.betaMax.toFixed(4).padStart(8)}${l.perTensorBecamePerChannel ? '  per-tensor -> per-channel' : ''}${l.biasAdded ? '  bias added' : ''}`,
      );
    }
    if (r.clampedChannels) out(`γ of ${r.clampedChannels} channels held at the 1e-3 floor (it must stay positive to fold into a scale)`);
    out('');
    if (r.before && r.after) {
      out(`mAP on the evaluation split (${r.before.images ?? '?'} images, ${r.before.engine ?? '?'} engine), percent:`);
      out(`            mAP@.5:.95  mAP@.5`);
      out(`  before       ${pct(r.before.map)}  ${pct(r.before.map50)}`);
      out(`  after QC     ${pct(r.after.map)}  ${pct(r.after.map50)}`);
      out(
        `  change       ${((r.after.map! - r.before.map!) * 100 >= 0 ? '+' : '') + ((r.after.map! - r.before.map!) * 100).toFixed(2).padStart(5)}  ${(((r.after.map50 - r.before.map50) * 100 >= 0 ? '+' : '') + ((r.after.map50 - r.before.map50) * 100).toFixed(2)).padStart(6)}`,
      );
      if (r.change && r.bootstrap) {
        out(`  change of mAP@.5:.95 ${diffText(r.change)}`);
        out(`  change of mAP@.5     ${diffText(at50(r.change))}`);
        out(`  (95% paired bootstrap intervals: ${r.bootstrap.resamples} resamples of the ${r.bootstrap.images} images, seed ${r.bootstrap.seed})`);
      }
    } else out('mAP before/after: not measured');
    const t = r.timings;
    out(
      `time: ${(t.totalMs / 1000).toFixed(1)} s training (${(t.forwardMs / 1000).toFixed(1)} s forward, ${(t.lossMs / 1000).toFixed(1)} s loss, ${(t.backwardMs / 1000).toFixed(1)} s backward, ${(t.optimizerMs / 1000).toFixed(1)} s optimizer, ${(t.loadMs / 1000).toFixed(1)} s images; ${(t.cpuMs / t.totalMs).toFixed(2)} cores busy), ${(t.evalMs / 1000).toFixed(1)} s evaluation`,
    );
    out(`wrote ${r.out}`);
    if (r.jsonOut) out(`JSON: ${r.jsonOut}`);
  },
};
