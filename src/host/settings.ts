// Reads the `qatLens.*` settings into one typed object. Pure: it takes a getter, so tests can run
// it without VS Code (the extension passes workspace.getConfiguration('qatLens').get).
import { parseHoldout } from '../core/qc/holdout';

export type Engine = 'auto' | 'cpu' | 'webgpu' | 'cuda';

export interface Settings {
  dataset: string;
  calibrationSet: string;
  /** Anchors for raw-head exports: W,H,.../W,H,.../... or a model yaml ('' = none). */
  anchors: string;
  calibrationImages: number;
  delta: number;
  probeDeltas: number[];
  bits: number | undefined;
  engine: Engine;
  flagConcentration: number;
  flagMaxPValue: number;
  qcSteps: number;
  qcBatchSize: number;
  qcLearningRate: number;
  /** Where QC chooses its step: 'auto' (the data set's holdout split where it has one), 'none', a split name or a number of calibration images. */
  qcHoldout: 'auto' | 'none' | string | number;
  evalLimit: number;
  /** NMS for every mAP the panel shows (qatLens.nms.*). */
  nms: { confThreshold: number; iouThreshold: number; maxDetections: number };
}

type Getter = (key: string) => unknown;

const num = (v: unknown, dflt: number, ok: (n: number) => boolean = Number.isFinite): number => (typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : dflt);
const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const posInt = (n: number): boolean => Number.isInteger(n) && n > 0;

/** qatLens.qc.holdout: a positive whole number, a split name, 'none'; anything else is 'auto'. */
function holdoutSetting(v: unknown): Settings['qcHoldout'] {
  const h = parseHoldout(str(v));
  return h === undefined || h === 'val' ? 'auto' : h;
}

/** Out-of-range or mistyped values fall back to the documented defaults instead of reaching the engine. */
export function readSettings(get: Getter): Settings {
  const engine = get('engine');
  const deltas = get('probeDeltas');
  const bits = get('bits');
  return {
    dataset: str(get('dataset')),
    calibrationSet: str(get('calibrationSet')),
    anchors: str(get('anchors')),
    calibrationImages: num(get('calibrationImages'), 256, posInt),
    delta: num(get('delta'), 0.05, (n) => n > 0 && n <= 0.5),
    probeDeltas: Array.isArray(deltas) && deltas.every((d) => typeof d === 'number' && d >= 0 && d <= 0.5) && deltas.length ? (deltas as number[]) : [0.05, 0.1, 0.25],
    bits: typeof bits === 'number' && Number.isInteger(bits) && bits >= 2 && bits <= 16 ? bits : undefined,
    engine: engine === 'cpu' || engine === 'webgpu' || engine === 'cuda' ? engine : 'auto',
    flagConcentration: num(get('flag.concentration'), 1.5, (n) => n >= 1),
    flagMaxPValue: num(get('flag.maxPValue'), 0.001, (n) => n >= 0 && n <= 1),
    qcSteps: num(get('qc.steps'), 200, posInt),
    qcBatchSize: num(get('qc.batchSize'), 16, posInt),
    qcLearningRate: num(get('qc.learningRate'), 0.001, (n) => n > 0),
    qcHoldout: holdoutSetting(get('qc.holdout')),
    evalLimit: num(get('evalLimit'), 0, (n) => Number.isInteger(n) && n >= 0),
    nms: {
      confThreshold: num(get('nms.confThreshold'), 0.001, (n) => n >= 0 && n <= 1),
      iouThreshold: num(get('nms.iouThreshold'), 0.6, (n) => n >= 0 && n <= 1),
      maxDetections: num(get('nms.maxDetections'), 300, posInt),
    },
  };
}
