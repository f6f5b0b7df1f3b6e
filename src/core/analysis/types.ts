// The oscillation report: what `qat-lens analyze --json` writes, what the panel shows and what the
// HTML report draws. Plain JSON data only. Every quantity follows docs/definitions.md.
// A value is null where it cannot exist (e.g. fractional positions of a layer stored as integers
// only); the report never fakes a number.

/** Scale (or zero point) of a per-channel quantizer: a summary plus every channel's value. */
export interface ChannelSummary {
  channels: number;
  /** Axis of the per-channel values (0 = output channels). */
  axis: number;
  min: number;
  max: number;
  mean: number;
  values: number[];
}

export type Granularity = 'per-tensor' | 'per-channel';

/** A quantizer as the report describes it: weights and activations alike. */
export interface QuantizerReport {
  name: string;
  bits: number;
  /** Where the bit-width came from (read from the range, an attribute, assumed by the user, ...). */
  bitsSource: string;
  qmin: number;
  qmax: number;
  quantizerKind: string;
  granularity: Granularity;
  /** Scalar scale, or a per-channel summary. */
  scale: number | ChannelSummary;
  /** Scalar zero point, or per-channel values. */
  zeroPoint: number | number[];
}

/** One quantized weight tensor of one checkpoint variant. */
export interface LayerReport extends QuantizerReport {
  /** "Conv", "Gemm", "Linear", ... as the reader found it. */
  op: string;
  shape: number[];
  /** dtype of the stored weights ("float32", "float16", "int8", ...). */
  storedDtype: string;
  /** All weights of the tensor. */
  count: number;
  /** True when latent (full-precision) weights exist, so fractional positions are defined. */
  hasLatent: boolean;
  /** 'stored': integer states read from the file (the truth); 'computed': clamp(roundHalfEven(u)). */
  integerSource: 'stored' | 'computed';
  /** Where both exist: how many stored integers differ from clamp(roundHalfEven(u)) (e.g. torch ties). */
  storedIntegerMismatches: number | null;
  /** Weights with u outside [qmin - 0.5, qmax + 0.5]. null without latent weights. */
  clippedFraction: number | null;
  /** In-range weights (denominator of NT). null without latent weights. */
  inRange: number | null;
  /** NT(δ) = #{in range, d < δ} / #{in range}. */
  nearThresholdFraction: number | null;
  /** C(δ) = NT(δ) / (2δ). */
  concentration: number | null;
  /** Mean of d = |f - 0.5| over in-range weights. */
  meanDistance: number | null;
  /** 20 equal bins of f over [0, 1): counts of in-range weights. */
  histogram: number[] | null;
  /**
   * NT and C per output channel (along the quantizer's axis for per-channel layers, else axis 0);
   * null entries for channels without in-range weights. Whole field null without latent weights.
   */
  perChannel: { axis: number; nearThresholdFraction: (number | null)[]; concentration: (number | null)[] } | null;
  /** Flag rule: see docs/analysis.md. */
  flagged: boolean;
  /** A sentence a person can read: why flagged, why not, or why not applicable. */
  reason: string;
  /** (k - n·2δ) / sqrt(n·2δ(1 - 2δ)) for k near-threshold weights out of n in range. */
  z: number | null;
  /** One-sided binomial P(X ≥ k), X ~ Bin(n, 2δ), before correction. */
  pValue: number | null;
  /** log10 of pValue (stays finite where pValue underflows to 0). */
  log10PValue: number | null;
  /** Bonferroni-corrected: min(1, pValue × number of layers tested). */
  pValueAdjusted: number | null;
  /** log10 of the adjusted p-value (finite where it underflows). */
  log10PValueAdjusted?: number | null;
  /** Where the checkpoint holds `model` and `ema`: share of this layer's integer states that differ. */
  modelVsEmaFlipFraction?: number;
}

/** One activation quantizer (its scales only: activations have no latent weights in a checkpoint). */
export type ActivationReport = QuantizerReport;

/** A layer (or activation) tracked over the checkpoints of a sequence, in order. */
export interface SequenceLayer {
  name: string;
  /** Share of weights whose integer state differs, per consecutive pair (K-1 values). */
  flipFractions: number[];
  /** Reversals per weight per transition (docs/definitions.md: a non-zero change opposite to the last one). */
  meanReversals: number;
  /** Share of weights with at least one reversal. */
  reversalShare: number;
  /** |s_B - s_A| / s_A per consecutive pair; per-channel layers: mean over channels. */
  scaleRelativeChange: number[];
  /** Per-channel layers: the largest channel's relative change per pair; per-tensor: same as above. */
  scaleRelativeChangeMax: number[];
  /** Coefficient of variation (population std / mean) of s over the K checkpoints; per-channel: mean over channels. */
  scaleCV: number;
  /** Per-channel: the largest channel CV; per-tensor: same as scaleCV. */
  scaleCVMax: number;
  /** s at each checkpoint (per-channel: mean over channels), for trajectories. */
  scaleTrajectory: number[];
  /** C(δ) at each checkpoint (null where not defined). */
  concentration: (number | null)[];
  /** NT(δ) at each checkpoint. */
  nearThresholdFraction: (number | null)[];
  flagged: boolean[];
}

export interface SequenceActivation {
  name: string;
  scaleRelativeChange: number[];
  scaleRelativeChangeMax: number[];
  scaleCV: number;
  scaleCVMax: number;
  scaleTrajectory: number[];
}

export interface SequenceReport {
  /** The checkpoints in the order used (by epoch where every file records one, else by file name). */
  order: { file: string; epoch: number | null; variant: string }[];
  orderedBy: 'epoch' | 'name';
  /** Layers present in every checkpoint, matched by name. */
  layers: SequenceLayer[];
  activations: SequenceActivation[];
  /** Layers (or activations) missing from some checkpoints: where they are present. */
  partial: { name: string; kind: 'layer' | 'activation'; presentIn: string[] }[];
  /** Layers present in every checkpoint but with a different weight shape somewhere (not compared). */
  shapeMismatch: string[];
}

/** `model` vs `ema` inside one checkpoint (YOLOv5 training checkpoints hold both). */
export interface ModelVsEma {
  file: string;
  epoch: number | null;
  /** Over all weights of the layers both variants hold. */
  flipFraction: number;
  layers: { name: string; flipFraction: number; scaleRelativeChange: number }[];
  /** Layers in one variant only. */
  onlyInModel: string[];
  onlyInEma: string[];
}

export interface CheckpointSummary {
  file: string;
  format: string;
  epoch: number | null;
  modelClass: string | null;
  variants: string[];
  /** The variant whose layers are reported (`model` where present, else the first). */
  analyzedVariant: string;
}

export interface AnalysisSettings {
  delta: number;
  /** Minimum concentration for a flag (qatLens.flag.concentration). */
  minConcentration: number;
  /** Largest Bonferroni-adjusted p-value for a flag (qatLens.flag.maxPValue). */
  maxPValue: number;
  bits: number | null;
}

export interface AnalysisReport {
  schema: 'qat-lens/analysis@1';
  summary: {
    /** Model class where the file records it, else the first file's base name. */
    model: string;
    format: string;
    files: string[];
    /** Bit-widths of the reported layers, distinct and sorted. */
    bits: number[];
    layerCount: number;
    flaggedCount: number;
    /** Layers without latent weights (fractional positions N/A). */
    integerOnlyCount: number;
    /** Reader notes plus the analysis's own. */
    notes: string[];
  };
  settings: AnalysisSettings;
  checkpoints: CheckpointSummary[];
  /** Layers of the analyzed variant of the last checkpoint in order. */
  layers: LayerReport[];
  activations: ActivationReport[];
  /** Present with several checkpoints. */
  sequence?: SequenceReport;
  /** Present for checkpoints that hold both `model` and `ema`. */
  modelVsEma?: ModelVsEma[];
}
