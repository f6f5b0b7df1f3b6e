// Tracking across checkpoints of one run (docs/definitions.md): flip fractions between consecutive integer
// states, reversals (a non-zero change whose sign is opposite to the last non-zero change of the
// same weight), and scale movement (relative change per pair, coefficient of variation over K).

/** Feeds the integer states of one layer, checkpoint by checkpoint; one pass per transition. */
export class FlipTracker {
  private prev: Int32Array | null = null;
  /** Sign of each weight's last non-zero change: -1, 0 (none yet), +1. */
  private readonly lastSign: Int8Array;
  private readonly reversed: Uint8Array;
  private reversals = 0;
  private weightsReversed = 0;
  readonly flipFractions: number[] = [];

  constructor(readonly count: number) {
    this.lastSign = new Int8Array(count);
    this.reversed = new Uint8Array(count);
  }

  /** Adds the next checkpoint's states. The tracker keeps `q`: pass a fresh buffer each time (or swap two). */
  push(q: Int32Array): void {
    const prev = this.prev;
    this.prev = q;
    if (!prev) return;
    const last = this.lastSign;
    const rev = this.reversed;
    let flips = 0;
    let reversals = 0;
    let newly = 0;
    for (let i = 0, n = this.count; i < n; i++) {
      const dq = q[i] - prev[i];
      if (dq === 0) continue;
      flips++;
      const s = dq > 0 ? 1 : -1;
      if (last[i] === -s) {
        reversals++;
        if (rev[i] === 0) {
          rev[i] = 1;
          newly++;
        }
      }
      last[i] = s;
    }
    this.flipFractions.push(this.count > 0 ? flips / this.count : 0);
    this.reversals += reversals;
    this.weightsReversed += newly;
  }

  /** The buffer pushed before the last one is free for reuse once the next one is pushed. */
  get current(): Int32Array | null {
    return this.prev;
  }

  /** Mean reversals per weight per transition. */
  get meanReversals(): number {
    const transitions = this.flipFractions.length;
    return transitions > 0 && this.count > 0 ? this.reversals / (this.count * transitions) : 0;
  }

  /** Share of weights with at least one reversal. */
  get reversalShare(): number {
    return this.count > 0 ? this.weightsReversed / this.count : 0;
  }
}

/** Flip fraction between two integer-state arrays of the same length. */
export function flipFraction(a: Int32Array, b: Int32Array): number {
  let flips = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) flips++;
  return a.length > 0 ? flips / a.length : 0;
}

export interface ScaleMovement {
  scaleRelativeChange: number[];
  scaleRelativeChangeMax: number[];
  scaleCV: number;
  scaleCVMax: number;
  scaleTrajectory: number[];
}

/**
 * Scale movement over K scale vectors (one per checkpoint). A per-tensor scale (length 1) next to
 * per-channel ones is broadcast. Per-channel: relative change and CV per channel, reported as the
 * mean and the largest over channels. CV uses the population standard deviation.
 */
export function scaleMovement(scales: Float64Array[]): ScaleMovement | null {
  const channels = Math.max(...scales.map((s) => s.length));
  if (scales.some((s) => s.length !== 1 && s.length !== channels)) return null;
  const at = (s: Float64Array, c: number) => (s.length === 1 ? s[0] : s[c]);
  const K = scales.length;
  const rel: number[] = [];
  const relMax: number[] = [];
  for (let t = 1; t < K; t++) {
    let sum = 0;
    let max = 0;
    for (let c = 0; c < channels; c++) {
      const a = at(scales[t - 1], c);
      const r = Math.abs(at(scales[t], c) - a) / a;
      sum += r;
      if (r > max) max = r;
    }
    rel.push(sum / channels);
    relMax.push(max);
  }
  let cvSum = 0;
  let cvMax = 0;
  for (let c = 0; c < channels; c++) {
    let mean = 0;
    for (let t = 0; t < K; t++) mean += at(scales[t], c);
    mean /= K;
    let v = 0;
    for (let t = 0; t < K; t++) v += (at(scales[t], c) - mean) ** 2;
    const cv = Math.sqrt(v / K) / mean;
    cvSum += cv;
    if (cv > cvMax) cvMax = cv;
  }
  const trajectory = scales.map((s) => s.reduce((a, b) => a + b, 0) / s.length);
  return { scaleRelativeChange: rel, scaleRelativeChangeMax: relMax, scaleCV: cvSum / channels, scaleCVMax: cvMax, scaleTrajectory: trajectory };
}
