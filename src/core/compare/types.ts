// The side-by-side mAP comparison: float, QAT (hard), soft-round δ, latent, QC on one data set.
// MapEntry/MapComparison are also what the panel shows (src/shared/protocol.ts re-exports them),
// so the host passes entries on as they are.
import type { BootstrapInfo, MapDiff } from '../eval/bootstrap';
import type { PerImageEvals } from '../eval/perImage';

/** One model's detection scores in the side-by-side mAP view (all fractions 0..1). */
export interface MapEntry {
  /** "float", "QAT", "QC", "soft-round δ=0.05", ... */
  label: string;
  /** File the numbers belong to (shown as a tooltip; revealable). */
  file?: string;
  /** COCO mAP@[.5:.95]. */
  map: number;
  /** COCO mAP@.5. */
  map50: number;
  /** COCO mAP@.75 where reported. */
  map75?: number;
  /** AP@[.5:.95] per category, by category name. */
  perCategory?: Record<string, number>;
  /** Precision at 101 recall points (COCO's interpolation), IoU .5:.95 averaged or at .5 (see prIou). */
  pr?: { recall: number[]; precision: number[] };
  /** Inference engine that produced the detections ("cpu", "webgpu", ...). */
  engine?: string;
  images?: number;
  /** The detection head where it was analysed: family, strides, anchors and where they came from. */
  head?: string;
  /** The difference against the row it is compared with (QAT, or the hard δ = 0 row for soft/latent rows), with its 95% bootstrap interval. */
  vsRef?: MapDiff;
}

export interface MapComparison {
  /** What ran: "Run QC Correction", "Compare mAP", "Soft-Rounding Probe". */
  title: string;
  data?: string;
  /** IoU the PR curves are drawn at, e.g. ".50:.95" or ".50". */
  prIou?: string;
  entries: MapEntry[];
  /** Written output, e.g. the corrected model. */
  outputs?: { label: string; file: string }[];
  notes?: string[];
  /** How the entries' intervals were drawn (paired bootstrap over the evaluation images). */
  bootstrap?: BootstrapInfo;
  /** How the QC row was trained: its loss and held-out curves (the panel and the reports chart them). */
  qc?: QcCurves;
}

/** A QC run's curves: the training loss per step and, where a step was chosen, the held-out mAP. */
export interface QcCurves {
  /** Loss per image of each step's training batch, steps 1..N. */
  loss: number[];
  /** mAP@.5:.95 and mAP@.5 of the γ/β at each scored step (0: before training) on images never trained on. */
  heldOut?: { step: number; map: number; map50: number }[];
  /** The step whose γ/β were written (by held-out mAP@.5:.95); absent: the last. */
  keptStep?: number;
  /** How many held-out images, and their split where it was one. */
  heldOutImages?: number;
  heldOutSplit?: string;
}

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
