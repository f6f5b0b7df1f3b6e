// Job "map": run a detection model over a data set on the best local engine and score its COCO
// mAP. Owned by the engine; runs the same in the worker, the CLI and tests.
import type { CocoCategoryAp, CocoCurves } from '../eval/cocoeval';
import { atomicWrite } from '../io/atomicWrite';
import { jsonChunks } from '../io/jsonChunks';
import type { EngineChoice, EngineName } from '../infer/engine';
import type { OutputLayout } from '../infer/decode';
import type { NmsOptions } from '../infer/nms';
import { evaluateModel, type PipelineTimings } from '../infer/pipeline';
import { resolvePairedModel } from '../infer/pairing';
import { describeHeads } from '../infer/detectHead';
import type { JobContext } from '../context';

export interface MapParams {
  /** An ONNX model, or a PyTorch checkpoint paired with `onnx`. */
  model: string;
  data: string;
  engine?: EngineChoice;
  limit?: number;
  jsonOut?: string;
  dtOut?: string;
  /** The ONNX export that runs for a PyTorch checkpoint (`--onnx`). */
  onnx?: string;
  /** Split of the data set (default 'val'). */
  split?: string;
  batch?: number;
  layout?: OutputLayout | 'auto';
  nms?: Partial<NmsOptions>;
  imgsz?: number;
  /** `--anchors`: W,H,.../W,H,.../... (pixels, smallest stride first) or a model yaml. */
  anchors?: string;
  /** The qatLens.anchors setting (same forms). */
  anchorsSetting?: string;
}

/** The detection head as the report shows it. */
export interface HeadReport {
  layout: OutputLayout;
  /** Rows (candidate boxes) of the decoded output. */
  anchors: number;
  classes: number;
  /** yolov5, yolov7, yolov5/v7 (a raw export says no more), yolov8; absent where not analysed. */
  family?: string;
  strides?: number[];
  /** Per scale, anchor sizes in pixels [w0, h0, ...] (anchor-based heads). */
  anchorSizes?: number[][];
  anchorSource?: string;
  /** 'graph' (the model decodes) or 'qat-lens' (raw outputs decoded by the pipeline). */
  decodedBy?: 'graph' | 'qat-lens';
  /** One line: family, strides, anchors and their source. */
  summary?: string;
  /** Why the head was not analysed. */
  note?: string;
}

export interface MapResult {
  kind: 'map';
  /** The model that ran (the ONNX file; for a checkpoint, its paired export). */
  model: string;
  /** The checkpoint the ONNX stands for, where one was given. */
  checkpoint?: string;
  pairingNote?: string;
  data: string;
  split: string;
  engine: EngineName;
  engineNote: string;
  skipped: { engine: EngineName; reason: string }[];
  /** True when a QDQ graph was rewritten to float fake-quant for a GPU engine. */
  rewritten: boolean;
  images: number;
  detections: number;
  input: { width: number; height: number; batch: number };
  head: HeadReport;
  /** pycocotools' 12 numbers: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl. */
  stats: number[];
  perCategory: Record<number, CocoCategoryAp>;
  curves: CocoCurves;
  summaryText: string;
  warnings: string[];
  timings: PipelineTimings;
}

export async function runMap(p: MapParams, ctx: JobContext): Promise<MapResult> {
  const pair = await resolvePairedModel(p.model, p.onnx);
  if (pair.note) ctx.log('warn', pair.note);
  const ev = await evaluateModel(
    pair.onnx,
    p.data,
    {
      engine: p.engine,
      limit: p.limit,
      split: p.split,
      batch: p.batch,
      layout: p.layout,
      nms: p.nms,
      imgsz: p.imgsz,
      heads: 'find',
      anchorSources: { flag: p.anchors, setting: p.anchorsSetting, data: p.data, checkpoint: pair.checkpoint },
    },
    ctx,
  );
  const h = ev.heads;
  const head: HeadReport = h
    ? {
        ...ev.head,
        family: h.family,
        strides: h.strides,
        ...(h.anchorFree ? {} : { anchorSizes: h.anchors, anchorSource: h.anchorSource }),
        decodedBy: h.decode === 'none' ? 'qat-lens' : 'graph',
        summary: describeHeads(h),
      }
    : { ...ev.head, ...(ev.headNote ? { note: ev.headNote } : {}) };
  const result: MapResult = {
    kind: 'map',
    model: pair.onnx,
    ...(pair.checkpoint ? { checkpoint: pair.checkpoint } : {}),
    ...(pair.note ? { pairingNote: pair.note } : {}),
    data: ev.dataset.source,
    split: ev.dataset.split,
    engine: ev.engine,
    engineNote: ev.engineNote,
    skipped: ev.skipped,
    rewritten: ev.rewritten,
    images: ev.images.length,
    detections: ev.detections.length,
    input: ev.input,
    head,
    stats: ev.eval.stats,
    perCategory: ev.eval.perCategory,
    curves: ev.eval.curves,
    summaryText: ev.eval.summaryText,
    warnings: ev.eval.warnings,
    timings: ev.timings,
  };
  const inputs = [p.model, p.data, ...(p.onnx ? [p.onnx] : [])];
  if (p.dtOut) await atomicWrite(p.dtOut, jsonChunks(ev.detections, 0), { signal: ctx.signal, inputs });
  if (p.jsonOut) await atomicWrite(p.jsonOut, jsonChunks(result, 1), { signal: ctx.signal, inputs });
  return result;
}
