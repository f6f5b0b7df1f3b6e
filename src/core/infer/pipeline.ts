// Run a detection model over a data set and score it: decode + letterbox (sharp) of the next
// batch overlapped with inference of the current one, decoding of the head, NMS, boxes mapped
// back to the original images, COCO evaluation (src/core/eval/cocoeval).
import { readFileSync } from 'node:fs';
import { QatLensError, engineError, throwIfAborted } from '../errors';
import * as ort from 'onnxruntime-node';
import type { JobContext } from '../context';
import { quietContext } from '../context';
import type { CocoDet } from '../data/coco';
import { type Dataset, type DatasetImage, openDataset } from '../data/dataset';
import { boxesToOriginal, type LetterboxGeometry, letterboxInto } from '../data/letterbox';
import { evaluateCoco, type CocoEvalResult } from '../eval/cocoeval';
import { onnx } from '../onnx/proto';
import { givenAnchors, type AnchorSources } from './anchors';
import { appendAnchorDecode, detectLayout, type HeadShape, type OutputLayout } from './decode';
import { findDetectHeads, type DetectHeads } from './detectHead';
import { type EngineChoice, type EngineName, type EngineSession, type GraphOptimization, openSession } from './engine';
import { decodeDetector, detectorInfo, type DetectorInfo } from './modelInfo';
import { NMS_DEFAULTS, type NmsOptions, nonMaxSuppression } from './nms';
import { rewriteQdqToFloat } from './qdqToFloat';

export interface PipelineOptions {
  engine?: EngineChoice;
  /** Score only the first N images. */
  limit?: number;
  /** Images per inference call where the model's batch dim is dynamic (default 8). */
  batch?: number;
  /** Force the head layout (default: detected from the output shape). */
  layout?: OutputLayout | 'auto';
  nms?: Partial<NmsOptions>;
  /** Input size where the model's height/width are dynamic (default: metadata `imgsz`, else 640). */
  imgsz?: number;
  /**
   * Clip boxes to the image after mapping back (YOLOv5's scale_boxes/clip_boxes; default true).
   * false reproduces evaluators that skip it (tools/example/evaluate.py).
   */
  clipBoxes?: boolean;
  /**
   * onnxruntime graph optimization (default 'all'). At 'all' the CPU engine runs float convs with
   * its blocked (NCHWc) kernels, whose summation order differs from the plain kernel's: at 4 bits
   * a last-bit difference can move an activation across a rounding threshold.
   */
  optimization?: GraphOptimization;
  /** Split when `dataset` is a path (default 'val'). */
  split?: string;
  /** The file a model given as bytes stands for, for messages. */
  name?: string;
  /**
   * Keep preprocessed inputs across calls (probes and QC score many variants of one model on the
   * same images): pass the same Map each time. Costs 12*H*W bytes per image.
   */
  cache?: Map<string, { data: Float32Array; geometry: LetterboxGeometry }>;
  /**
   * The detection head: found once by the caller (probes and QC score many variants of one graph),
   * or 'find' to analyse it here. Without it, it is found only where the graph has no decode or
   * anchors are given.
   */
  heads?: DetectHeads | 'find';
  /** Where anchors may come from besides the graph (flag, setting, data yaml, paired checkpoint). */
  anchorSources?: AnchorSources;
}

export interface PipelineTimings {
  /** Wall time spent decoding and letterboxing images (overlapped with inference). */
  decodeMs: number;
  /** Wall time inside session.run. */
  inferenceMs: number;
  /** Head decoding, NMS and mapping boxes back. */
  nmsMs: number;
  /** Whole run, from opening the session to the last detections (evaluation excluded). */
  totalMs: number;
  /** Session creation (and QDQ rewrite for GPU engines). */
  sessionMs: number;
}

export interface DetectionRun {
  engine: EngineName;
  engineNote: string;
  skipped: { engine: EngineName; reason: string }[];
  rewritten: boolean;
  images: DatasetImage[];
  detections: CocoDet[];
  head: HeadShape;
  input: { width: number; height: number; batch: number };
  timings: PipelineTimings;
  /** The head as found in the graph, where it was looked for. */
  heads?: DetectHeads;
  /** Why the head could not be analysed (the model's own decode was scored anyway). */
  headNote?: string;
}

export interface ModelEvaluation extends DetectionRun {
  dataset: Dataset;
  eval: CocoEvalResult;
}

/** The model bytes and a file name for messages. */
function modelBytes(model: string | Uint8Array, name?: string): { bytes: Uint8Array; file: string } {
  if (typeof model !== 'string') return { bytes: model, file: name ?? '<model in memory>' };
  try {
    return { bytes: readFileSync(model), file: model };
  } catch (err) {
    throw new QatLensError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, model, 'EREAD');
  }
}

/** Model class index -> category id: by name where the model carries names, else by order. */
export function classToCategory(info: DetectorInfo, head: HeadShape, ds: Dataset, file: string): Int32Array {
  const map = new Int32Array(head.classes).fill(-1);
  const byName = new Map(ds.names.map((n, i) => [n, ds.categoryIds[i]]));
  if (info.names && info.names.length === head.classes && ds.names.every((n) => info.names!.includes(n))) {
    info.names.forEach((n, i) => {
      map[i] = byName.get(n) ?? -1;
    });
    return map;
  }
  if (head.classes !== ds.names.length) {
    throw new QatLensError(
      `the model predicts ${head.classes} classes but the data set (${ds.source}) has ${ds.names.length} (${ds.names.slice(0, 8).join(', ')}${ds.names.length > 8 ? ', ...' : ''})` +
        (info.names ? `, and the model's class names (${info.names.slice(0, 8).join(', ')}) do not cover them` : ''),
      file,
    );
  }
  ds.categoryIds.forEach((id, i) => {
    map[i] = id;
  });
  return map;
}

/**
 * The head, where it is needed or asked for. A graph without a decode, or anchors given from outside,
 * make it required (errors stop the run); otherwise a graph that decodes in a way not recognised is
 * still scored, with a note.
 */
async function resolveHeads(proto: onnx.ModelProto, info: DetectorInfo, file: string, imgsz: [number, number], opts: PipelineOptions): Promise<{ heads?: DetectHeads; note?: string }> {
  if (opts.heads && opts.heads !== 'find') return { heads: opts.heads };
  const userGiven = opts.anchorSources ? givenAnchors(opts.anchorSources) : undefined;
  const decodes = info.outputDims.length === 3;
  if (decodes && !userGiven && opts.heads !== 'find') return {};
  const given = userGiven ?? givenAnchors({ model: proto });
  try {
    return { heads: await findDetectHeads(proto, file, imgsz, given) };
  } catch (err) {
    if (!decodes || userGiven) throw err;
    return { note: `head not analysed (${(err as Error).message.replace(`${file}: `, '')}); the model's own decoded output was scored` };
  }
}

/** Run the model over the data set and return COCO detections (no scoring). */
export async function detectDataset(
  model: string | Uint8Array,
  dataset: string | Dataset,
  opts: PipelineOptions = {},
  ctx: JobContext = quietContext(),
): Promise<{ run: DetectionRun; dataset: Dataset }> {
  const t0 = performance.now();
  const { bytes: given, file } = modelBytes(model, opts.name);
  let bytes = given;
  let { proto, info } = decodeDetector(bytes, file);
  const ds = typeof dataset === 'string' ? await openDataset(dataset, { split: opts.split ?? 'val' }) : dataset;
  throwIfAborted(ctx.signal);
  const images = opts.limit ? ds.images.slice(0, opts.limit) : ds.images;
  // Dynamic height/width: the option, else the size the export records, else YOLOv5's 640.
  const H = info.height ?? opts.imgsz ?? info.imgsz?.[0] ?? 640,
    W = info.width ?? opts.imgsz ?? info.imgsz?.[1] ?? 640;
  const batch = info.batch ?? Math.max(1, opts.batch ?? 8);
  const dynamicBatch = info.batch === null;
  const { heads, note: headNote } = await resolveHeads(proto, info, file, [H, W], opts);
  if (heads?.decode === 'none') {
    // A raw-head export: decode in the graph (see appendAnchorDecode), then score as usual.
    proto = appendAnchorDecode(proto, heads).model;
    bytes = onnx.ModelProto.encode(proto).finish();
    info = detectorInfo(proto, file);
  }

  const tS = performance.now();
  const es: EngineSession = await openSession(
    {
      original: bytes,
      gpu: () => {
        if (!info.qdq) return { bytes, rewritten: false };
        try {
          const r = rewriteQdqToFloat(proto, file, { round: 'magic' }); // Round has no WebGPU kernel
          return { bytes: onnx.ModelProto.encode(r.model).finish(), rewritten: true, note: `${r.stats.activations} activation Q/DQ pairs and ${r.stats.weights} weights turned to float` };
        } catch (err) {
          return { bytes, rewritten: false, note: `QDQ graph kept as is (${(err as Error).message})` };
        }
      },
    },
    opts.engine ?? 'auto',
    opts.optimization ?? 'all',
  ).catch((err) => {
    throw engineError(err, file);
  });
  const sessionMs = performance.now() - tS;
  ctx.log('info', `engine: ${es.note}`);
  const nms: NmsOptions = { ...NMS_DEFAULTS, ...opts.nms };
  const timings: PipelineTimings = { decodeMs: 0, inferenceMs: 0, nmsMs: 0, totalMs: 0, sessionMs };
  const detections: CocoDet[] = [];
  let head: HeadShape | undefined;
  let catMap: Int32Array | undefined;
  const plane = 3 * H * W;

  const prepare = async (list: DatasetImage[]) => {
    const t = performance.now();
    const n = dynamicBatch ? list.length : batch;
    const data = new Float32Array(n * plane);
    const geoms = await Promise.all(
      list.map(async (im, k) => {
        const key = `${im.file}@${W}x${H}`;
        const hit = opts.cache?.get(key);
        if (hit) {
          data.set(hit.data, k * plane);
          return hit.geometry;
        }
        const g = await letterboxInto(im.file, W, H, data, k * plane);
        opts.cache?.set(key, { data: data.slice(k * plane, (k + 1) * plane), geometry: g });
        return g;
      }),
    );
    timings.decodeMs += performance.now() - t;
    return { list, data, n, geoms };
  };

  try {
    const chunks: DatasetImage[][] = [];
    for (let i = 0; i < images.length; i += batch) chunks.push(images.slice(i, i + batch));
    let pending = chunks.length ? prepare(chunks[0]) : undefined;
    let done = 0;
    for (let c = 0; c < chunks.length; c++) {
      const cur = await pending!;
      throwIfAborted(ctx.signal);
      // Decode the next batch while this one runs.
      pending = c + 1 < chunks.length ? prepare(chunks[c + 1]) : undefined;
      pending?.catch(() => {}); // surfaced when awaited
      const tI = performance.now();
      const out = await es.session.run({ [info.input]: new ort.Tensor('float32', cur.data, [cur.n, 3, H, W]) }, [info.output]).catch((err) => {
        throw engineError(err, file);
      });
      timings.inferenceMs += performance.now() - tI;
      const tN = performance.now();
      const t = out[info.output];
      if (t.type !== 'float32') throw new QatLensError(`output '${info.output}' is ${t.type}; expected float32`, file);
      if (!head) {
        head = detectLayout(t.dims, info.names?.length ?? ds.names.length, opts.layout, `output '${info.output}' of ${file}`);
        catMap = classToCategory(info, head, ds, file);
      }
      const pred = t.data as Float32Array;
      const per = head.anchors * (head.layout === 'yolov5' ? 5 + head.classes : 4 + head.classes);
      for (let k = 0; k < cur.list.length; k++) {
        const d = nonMaxSuppression(pred, k * per, head.anchors, head.classes, head.layout, nms);
        boxesToOriginal(d.boxes, d.count, cur.geoms[k], opts.clipBoxes ?? true);
        const id = cur.list[k].id;
        for (let j = 0; j < d.count; j++) {
          const cat = catMap![d.classes[j]];
          if (cat < 0) continue; // a model class the data set does not have
          const x1 = d.boxes[j * 4],
            y1 = d.boxes[j * 4 + 1];
          detections.push({ image_id: id, category_id: cat, bbox: [x1, y1, d.boxes[j * 4 + 2] - x1, d.boxes[j * 4 + 3] - y1], score: d.scores[j] });
        }
      }
      timings.nmsMs += performance.now() - tN;
      t.dispose?.();
      done += cur.list.length;
      ctx.progress({ message: `${done}/${images.length} images on ${es.engine}`, fraction: done / images.length });
    }
  } finally {
    await es.session.release().catch(() => {});
  }
  timings.totalMs = performance.now() - t0;
  const run: DetectionRun = {
    engine: es.engine,
    engineNote: es.note,
    skipped: es.skipped,
    rewritten: es.rewritten,
    images,
    detections,
    head:
      head ??
      detectLayout(
        info.outputDims.map((d) => d ?? 1),
        undefined,
        opts.layout,
      ),
    input: { width: W, height: H, batch },
    timings,
    ...(heads ? { heads } : {}),
    ...(headNote ? { headNote } : {}),
  };
  return { run, dataset: ds };
}

/**
 * Run and score: the reusable entry point for the map job, the probes and QC. `model` is a path or
 * the bytes of an ONNX model held in memory; `dataset` a path or an already opened Dataset.
 */
export async function evaluateModel(model: string | Uint8Array, dataset: string | Dataset, opts: PipelineOptions = {}, ctx: JobContext = quietContext()): Promise<ModelEvaluation> {
  const { run, dataset: ds } = await detectDataset(model, dataset, opts, ctx);
  const imgIds = run.images.length === ds.images.length ? undefined : run.images.map((im) => im.id);
  // perImage: kept for the bootstrap intervals of comparisons (cheap: the matches exist anyway).
  const ev = evaluateCoco(ds.gt, run.detections, { ...(imgIds ? { imgIds } : {}), perImage: true });
  return { ...run, dataset: ds, eval: ev };
}
