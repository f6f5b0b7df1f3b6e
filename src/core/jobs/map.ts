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
  head: { layout: OutputLayout; anchors: number; classes: number };
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
  const ev = await evaluateModel(pair.onnx, p.data, { engine: p.engine, limit: p.limit, split: p.split, batch: p.batch, layout: p.layout, nms: p.nms, imgsz: p.imgsz }, ctx);
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
    head: ev.head,
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
