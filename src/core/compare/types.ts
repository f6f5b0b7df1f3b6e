// The side-by-side mAP comparison: float, QAT (hard), soft-round δ, latent, QC on one data set.
// Entries are the panel's MapEntry (src/shared/protocol.ts), so the host shows them as they are.
import type { MapComparison, MapEntry } from '../../shared/protocol';
import type { PerImageEvals } from '../eval/perImage';

export type CompareRole = 'float' | 'qat' | 'hard' | 'soft' | 'latent' | 'qc';

export interface CompareEntry extends MapEntry {
  role: CompareRole;
  /** Soft rounding threshold (role "soft"). */
  delta?: number;
  /** Weights that kept their latent value (soft/latent variants) and all probed weights. */
  softWeights?: number;
  probedWeights?: number;
  /** Precision at 101 recall points at IoU .50 (pr is at .50:.95). */
  pr50?: { recall: number[]; precision: number[] };
  seconds?: number;
  /** COCOeval's per-image matches, for the bootstrap intervals; dropped once they are computed. */
  perImage?: PerImageEvals;
}

export interface CompareReport {
  kind: 'compare';
  comparison: Omit<MapComparison, 'entries'> & { entries: CompareEntry[] };
  /** Share of the float -> QAT gap in mAP@.5:.95 recovered by QC: (QC - QAT) / (float - QAT). */
  gapRecovered?: GapRecovered;
  /** Where the soft/latent variants' latent weights came from. */
  latentFrom?: string;
  engine?: string;
  images?: number;
  jsonOut?: string;
  htmlOut?: string;
  seconds: number;
}

/** Share of the float -> QAT gap recovered by QC, with 95% bootstrap intervals where computed. */
export interface GapRecovered {
  map: number;
  map50: number;
  mapCi?: [number, number];
  map50Ci?: [number, number];
}
