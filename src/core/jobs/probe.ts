// Job "probe": the soft-rounding probe (src/core/probe/probe.ts), its JSON and a terminal summary.
import type { NmsOptions } from '../infer/nms';
import type { MapComparison } from '../compare/types';
import { attachIntervals } from '../compare/intervals';
import type { CompareEntry } from '../compare/types';
import { atomicWrite } from '../io/atomicWrite';
import { jsonChunks, withNewline } from '../io/jsonChunks';
import { probeModel, type ProbeReport } from '../probe/probe';
import type { JobContext } from '../context';

export interface ProbeParams {
  model: string;
  data: string;
  deltas: number[];
  perLayer: boolean;
  /** Checkpoint with latent weights, where the ONNX stores integers only. */
  pt?: string;
  /** "model" or "ema" of the checkpoint. */
  variant?: string;
  perLayerDelta?: number;
  perLayerImages?: number;
  /** Per-layer probe of only these layers (e.g. the analysis's flagged ones). */
  layers?: string[];
  /** Score mAP for the top N layers of the per-layer probe too. */
  perLayerMap?: number;
  /** Per-layer probe of the layers the oscillation analysis flags only. */
  flaggedOnly?: boolean;
  engine?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  limit?: number;
  nms?: Partial<NmsOptions>;
  /** Bootstrap resamples for the intervals of the differences against δ = 0 (default 1000; 0: none) and their seed. */
  bootstrap?: number;
  seed?: number;
  jsonOut?: string;
  /** `--anchors` (W,H,.../... or a model yaml) and the qatLens.anchors setting, for raw-head exports. */
  anchors?: string;
  anchorsSetting?: string;
}
export interface ProbeResult {
  kind: 'probe';
  report: ProbeReport;
  /** The same numbers as the panel's side-by-side view. */
  comparison: Omit<MapComparison, 'entries'> & { entries: CompareEntry[] };
  /** δ = 0 (hard) and the soft variants, as the host reads them. */
  baseline: CompareEntry;
  deltas: CompareEntry[];
  jsonOut?: string;
}

export async function runProbe(p: ProbeParams, ctx: JobContext): Promise<ProbeResult> {
  const report = await probeModel(
    p.model,
    {
      data: p.data,
      deltas: p.deltas,
      pt: p.pt,
      variant: p.variant,
      perLayer: p.perLayer,
      perLayerDelta: p.perLayerDelta,
      perLayerImages: p.perLayerImages,
      perLayerOnly: p.layers,
      perLayerMap: p.perLayerMap,
      flaggedOnly: p.flaggedOnly,
      engine: p.engine,
      limit: p.limit,
      nms: p.nms,
      anchors: p.anchors,
      anchorsSetting: p.anchorsSetting,
    },
    ctx,
  );
  const entries = [report.baseline, ...report.soft, ...(report.latent ? [report.latent] : [])];
  const bootstrap = attachIntervals(entries, undefined, { resamples: p.bootstrap, seed: p.seed });
  const comparison = { title: 'Soft-Rounding Probe', data: p.data, prIou: '.50:.95', entries, notes: [...report.findings, ...report.notes], ...(bootstrap ? { bootstrap } : {}) };
  if (p.jsonOut) {
    await atomicWrite(p.jsonOut, withNewline(jsonChunks(report, 1)), { signal: ctx.signal, inputs: [p.model, ...(p.pt ? [p.pt] : [])] });
    ctx.log('info', `wrote ${p.jsonOut}`);
  }
  ctx.progress({ message: 'done', fraction: 1 });
  return { kind: 'probe', report, comparison, baseline: report.baseline, deltas: report.soft, jsonOut: p.jsonOut };
}
