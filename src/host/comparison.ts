// Turns map / probe / correct job results into the panel's side-by-side mAP view model.
// Pure (no vscode).
import * as path from 'node:path';
import type { CorrectResult } from '../core/jobs/correct';
import type { MapResult } from '../core/jobs/map';
import type { ProbeResult } from '../core/jobs/probe';
import type { MapComparison, MapEntry } from '../shared/protocol';

// The engine's result types are being filled in; until they carry these fields, read them
// structurally and show nothing rather than a made-up number.
interface StatsLike {
  map?: number;
  map50?: number;
  map75?: number;
  engine?: string;
  images?: number;
  perCategory?: Record<string, number>;
  pr?: { recall: number[]; precision: number[] };
}

function entry(label: string, file: string | undefined, s: StatsLike | undefined): MapEntry | undefined {
  if (!s || typeof s.map !== 'number' || typeof s.map50 !== 'number') return undefined;
  return { label, file, map: s.map, map50: s.map50, map75: s.map75, perCategory: s.perCategory, pr: s.pr, engine: s.engine, images: s.images };
}
const defined = <T,>(x: (T | undefined)[]): T[] => x.filter((v): v is T => v !== undefined);

export function mapComparison(data: string, runs: { model: string; r: MapResult }[]): MapComparison {
  return {
    title: 'Compare mAP',
    data,
    entries: defined(runs.map(({ model, r }) => entry(path.basename(model), model, r as unknown as StatsLike))),
  };
}

export function probeComparison(model: string, data: string, r: ProbeResult): MapComparison {
  const x = r as unknown as { baseline?: StatsLike; deltas?: (StatsLike & { delta: number })[] };
  return {
    title: 'Soft-Rounding Probe',
    data,
    entries: defined([entry('QAT (δ = 0, hard)', model, x.baseline), ...(x.deltas ?? []).map((d) => entry(`soft-round δ=${d.delta}`, model, d))]),
  };
}

export function correctionComparison(model: string, out: string, data: string, r: CorrectResult): MapComparison {
  const x = r as unknown as { float?: StatsLike & { file?: string }; before?: StatsLike; after?: StatsLike };
  return {
    title: 'QC Correction',
    data,
    entries: defined([entry('float', x.float?.file, x.float), entry('QAT', model, x.before), entry('QC', out, x.after)]),
    outputs: [{ label: 'corrected model', file: out }],
  };
}
