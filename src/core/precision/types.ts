// The precision plan's report: per layer the what-if's mAP and cost, the cheap first pass, and
// the greedy plan. JSON-cloneable (it travels from the worker to the host and into the panel).
import type { NmsOptions } from '../infer/nms';

export interface PrecisionOptions {
  data: string;
  /** Checkpoint (.pt) with the latent weights, where the ONNX stores integers only. */
  latent?: string;
  variant?: string;
  /** Bit-width the what-if re-quantizes to (default 8). */
  bits?: number;
  /** Refine the layer's input activation quantizer to `bits` too. */
  activations?: boolean;
  /** Refine only the input activation quantizer; the layer's weights stay as they are. */
  activationsOnly?: boolean;
  /** Layers scored in full (mAP) after the first pass; 0 or undefined: the default (16); more than there are: all. */
  candidates?: number;
  /** Evaluation images the first pass runs on (default 8). */
  firstPassImages?: number;
  /** Score exactly these layers (checkpoint or ONNX names; no first pass) and re-score them together as the plan. */
  layers?: string[];
  /** Plan: smallest set reaching this mAP@.5:.95 (fraction 0..1). */
  targetMap?: number;
  /** Plan: smallest set recovering this share of the float -> QAT gap (needs `float`). */
  targetGap?: number;
  /** Plan: best set within this many extra bytes. */
  budget?: number;
  /** Float ONNX: scored for the float -> QAT gap, and the first pass's "toward float" proxy. */
  float?: string;
  engine?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  limit?: number;
  nms?: Partial<NmsOptions>;
}

export interface PrecisionRow {
  /** Checkpoint naming (the .pt's module name, else the ONNX node name). */
  name: string;
  /** ONNX weight initializer. */
  key: string;
  op: string;
  shape: number[];
  weights: number;
  /** Weight bits now and in the what-if. */
  bits: number;
  toBits: number;
  /** Input activation bits now and in the what-if (where the layer has an activation quantizer). */
  actBits?: number;
  actToBits?: number;
  /** Weight storage now, in the what-if, and added (integers packed at their width + float32 scales). */
  bytes: number;
  toBytes: number;
  bytesAdded: number;
  /** Multiply-accumulates per image, and bit-operations (MACs x weight bits x activation bits) now and in the what-if. */
  macs: number;
  bops: number;
  toBops: number;
  /** Squared error of the weights against their latent values: now, and re-quantized (per-channel min-MSE scales). */
  weightSse: number;
  toWeightSse: number;
  /** First pass (all candidates): relative output change, and share of the output error against float removed. */
  change?: number;
  towardFloat?: number;
  /** Scored in full (top candidates of the first pass). */
  map?: number;
  map50?: number;
  gain?: number;
  gain50?: number;
  /** In the plan. */
  planned?: boolean;
}

export interface PrecisionScore {
  map: number;
  map50: number;
  map75?: number;
  engine?: string;
  images?: number;
}

export interface PrecisionPlanReport {
  mode: 'target' | 'budget' | 'best' | 'given';
  /** mAP@.5:.95 target (target mode) or byte budget (budget mode). */
  targetMap?: number;
  budget?: number;
  /** Layer names, checkpoint naming, ready to paste into a training config. */
  layers: string[];
  keys: string[];
  bytesAdded: number;
  /** Bytes added as a share of the model's quantized weight storage now. */
  bytesShare: number;
  macs: number;
  map: number;
  map50: number;
  /** (plan - QAT) / (float - QAT) where a float model was scored. */
  gapShare?: number;
  gapShare50?: number;
  reached?: boolean;
  steps: { name: string; bytesAdded: number; map: number; map50: number; kept: boolean }[];
  /** The plan's what-if ONNX, where written. */
  out?: string;
}

export interface PrecisionReport {
  model: string;
  data: string;
  latentFrom: string;
  naming: string;
  bits: number;
  activations: boolean;
  /** Weights kept as they are (only activations refined). */
  activationsOnly: boolean;
  baseline: PrecisionScore;
  float?: PrecisionScore;
  /** Candidate layers (below `bits`), in model order. */
  layers: PrecisionRow[];
  /** Layers already at `bits` or more (not candidates). */
  skipped: string[];
  firstPass: { method: string; images: number; ranked: number; scored: number; spearman?: number; spearmanFloat?: number };
  plan: PrecisionPlanReport;
  /** Quantized weight storage of the model now (bytes). */
  modelBytes: number;
  scaleSearch: string;
  findings: string[];
  limits: string[];
  notes: string[];
  seconds: number;
  /** Models scored in full (baseline, float, candidates, plan steps). */
  scored: number;
}
