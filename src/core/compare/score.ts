// Scores one model (a file, or serialised bytes of an in-memory variant) on the evaluation split
// with the inference pipeline, as a comparison entry: mAP@.5:.95, mAP@.5, per class AP, PR curves.
import type { Dataset } from '../data/dataset';
import { openDataset } from '../data/dataset';
import type { CocoCurves, CocoCategoryAp } from '../eval/cocoTypes';
import type { PerImageEvals } from '../eval/perImage';
import { evaluateModel, type PipelineOptions } from '../infer/pipeline';
import type { NmsOptions } from '../infer/nms';
import type { AnchorSources } from '../infer/anchors';
import { describeHeads } from '../infer/detectHead';
import type { JobContext } from '../context';
import type { MapEntry } from './types';

export interface ScoreOptions {
  engine?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  limit?: number;
  /**
   * onnxruntime graph optimisation (default 'extended'). Side by side, every model must run the
   * same arithmetic: at 'all' the CPU engine's blocked conv kernels sum in another order for float
   * weights than for a QDQ graph, and at 4 bits that flips activation roundings (measured on the
   * W4A4 example: the δ = 0 variant 63.12 vs the QDQ file 63.29 at 'all', both 63.29 at 'extended').
   */
  optimization?: PipelineOptions['optimization'];
  /** NMS settings (YOLOv5's validation defaults where absent). */
  nms?: Partial<NmsOptions>;
  /** Anchors from outside the graph (needed by raw-head exports, checked against a decode). */
  anchorSources?: AnchorSources;
  /** The file an in-memory model (bytes) stands for, for messages. */
  name?: string;
  /** Analyse the detection head even where the graph decodes (its summary lands in `head`). */
  findHead?: boolean;
}

export type Scored = Omit<MapEntry, 'label'> & { pr50?: { recall: number[]; precision: number[] }; perImage?: PerImageEvals };
export type Scorer = (model: string | Uint8Array, data: string, opts: ScoreOptions, ctx: JobContext) => Promise<Scored>;

/** Curve points with a defined precision (-1 marks "no ground truth"). */
function curve(recall: number[], precision: number[]): { recall: number[]; precision: number[] } {
  const r: number[] = [],
    p: number[] = [];
  precision.forEach((v, i) => {
    if (v >= 0) {
      r.push(recall[i]);
      p.push(v);
    }
  });
  return { recall: r, precision: p };
}

export function toScored(res: { stats: number[]; perCategory: Record<number, CocoCategoryAp>; curves: CocoCurves; perImage?: PerImageEvals }, engine?: string, images?: number): Scored {
  const perCategory: Record<string, number> = {};
  for (const c of Object.values(res.perCategory)) if (c.ap >= 0) perCategory[c.name] = c.ap;
  return {
    map: res.stats[0],
    map50: res.stats[1],
    map75: res.stats[2],
    perCategory,
    pr: curve(res.curves.recall, res.curves.iou50to95.overall),
    pr50: curve(res.curves.recall, res.curves.iou50.overall),
    engine,
    images,
    ...(res.perImage ? { perImage: res.perImage } : {}),
  };
}

/** Preprocessed images are kept across the models of one comparison up to this many images. */
const CACHE_IMAGES = 300;

/**
 * A scorer for many models on one data set: the data set is opened once, and where it is small
 * the letterboxed images are decoded once and reused by every model (probe variants, QC).
 */
export function makeScorer(): Scorer {
  const datasets = new Map<string, Dataset>();
  const caches = new Map<string, NonNullable<PipelineOptions['cache']>>();
  // Every model of a comparison runs on the same engine: say each info line (the engine note) once.
  const said = new Set<string>();
  return async (model, data, opts, outer) => {
    const ctx: JobContext = {
      ...outer,
      log: (level, message) => {
        if (level === 'info' && said.has(message)) return;
        said.add(message);
        outer.log(level, message);
      },
    };
    let ds = datasets.get(data);
    if (!ds) datasets.set(data, (ds = await openDataset(data, { split: 'val' })));
    const n = opts.limit ? Math.min(opts.limit, ds.images.length) : ds.images.length;
    let cache: PipelineOptions['cache'];
    if (n <= CACHE_IMAGES) {
      cache = caches.get(data) ?? new Map();
      caches.set(data, cache);
    }
    const r = await evaluateModel(
      model,
      ds,
      {
        engine: opts.engine,
        limit: opts.limit,
        nms: opts.nms,
        cache,
        optimization: opts.optimization ?? 'extended',
        anchorSources: opts.anchorSources,
        name: opts.name,
        ...(opts.findHead ? { heads: 'find' as const } : {}),
      },
      ctx,
    );
    return { ...toScored(r.eval, r.engine, r.images.length), ...(r.heads ? { head: describeHeads(r.heads) } : {}) };
  };
}

/** A fresh scorer per call site; jobs that score many models should share one from makeScorer(). */
export const defaultScorer: Scorer = (model, data, opts, ctx) => makeScorer()(model, data, opts, ctx);
