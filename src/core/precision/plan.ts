// The greedy plan. Layers with a positive single-layer gain are tried one at a time, in order, and
// the growing set is re-scored as a whole after each addition (at 4 bits the gains do not add up);
// a layer stays in the plan only where the re-scored mAP@.5:.95 rises.
//   target mode (--target-map X): order by gain, stop as soon as the set reaches X (fewest layers);
//   budget mode (--budget N): order by gain per byte added, skip layers that would exceed N bytes;
//   best (neither): order by gain, try every positive layer.
export type PlanMode = { kind: 'target'; map: number } | { kind: 'budget'; bytes: number } | { kind: 'best' };

export interface PlanCandidate {
  key: string;
  gain: number;
  bytesAdded: number;
}

export interface PlanStep {
  key: string;
  /** Bytes added by the set after this step (kept layers only). */
  bytesAdded: number;
  /** mAP of the set with this layer added (whether kept or not). */
  map: number;
  map50: number;
  kept: boolean;
}

export interface PlanOutcome {
  keys: string[];
  bytesAdded: number;
  map: number;
  map50: number;
  steps: PlanStep[];
  /** Target mode: whether the target was reached. */
  reached?: boolean;
}

export type SetScorer = (keys: string[]) => Promise<{ map: number; map50: number }>;

export function planOrder(cands: PlanCandidate[], mode: PlanMode): PlanCandidate[] {
  const pos = cands.filter((c) => c.gain > 0);
  const density = (c: PlanCandidate) => c.gain / Math.max(1, c.bytesAdded);
  return mode.kind === 'budget' ? pos.sort((a, b) => density(b) - density(a)) : pos.sort((a, b) => b.gain - a.gain);
}

export async function greedyPlan(cands: PlanCandidate[], mode: PlanMode, baseline: { map: number; map50: number }, score: SetScorer): Promise<PlanOutcome> {
  const keys: string[] = [];
  let bytes = 0;
  let cur = { map: baseline.map, map50: baseline.map50 };
  const steps: PlanStep[] = [];
  const reached = () => mode.kind === 'target' && cur.map >= mode.map;
  for (const c of planOrder(cands, mode)) {
    if (reached()) break;
    if (mode.kind === 'budget' && bytes + c.bytesAdded > mode.bytes) continue;
    const s = await score([...keys, c.key]);
    const kept = s.map > cur.map;
    if (kept) {
      keys.push(c.key);
      bytes += c.bytesAdded;
      cur = s;
    }
    steps.push({ key: c.key, bytesAdded: bytes + (kept ? 0 : c.bytesAdded), map: s.map, map50: s.map50, kept });
  }
  return { keys, bytesAdded: bytes, map: cur.map, map50: cur.map50, steps, reached: mode.kind === 'target' ? reached() : undefined };
}
