// The side-by-side mAP view (the panel's, and the HTML report's) from the engine's compare report
// (its entries already are MapEntry), plus the files a command wrote.
import { NOISE, shareCiText } from './diffText';
import type { CompareReport, GapRecovered, MapComparison, QcCurves } from './types';

export interface ComparisonExtras {
  outputs?: { label: string; file: string }[];
  /** Lines shown first (e.g. how QC was run). */
  lead?: string[];
  /** False where the caller asked for no soft-round/latent variants: the engine's note on skipping them is noise then. */
  variantsAsked?: boolean;
  /** The QC run's curves (its training loss, the held-out mAP and the kept step). */
  qc?: QcCurves;
}

/** What a QC run (runQC's outcome) shows in a comparison: loss per step and the held-out choice. */
export function qcCurves(r: { lossCurve: number[]; heldOut?: { images: number; split?: string; curve: { step: number; map: number; map50: number }[]; keptStep: number } }): QcCurves {
  return {
    loss: r.lossCurve,
    ...(r.heldOut ? { heldOut: r.heldOut.curve, keptStep: r.heldOut.keptStep, heldOutImages: r.heldOut.images, ...(r.heldOut.split ? { heldOutSplit: r.heldOut.split } : {}) } : {}),
  };
}

/** The sentence on the step kept, where one was chosen on held-out images. */
export function keptStepSentence(q: QcCurves): string | undefined {
  if (q.keptStep === undefined || !q.heldOut?.length) return undefined;
  const best = q.heldOut.find((p) => p.step === q.keptStep);
  const where = `${q.heldOutImages ?? '?'} held-out images${q.heldOutSplit ? ` (split "${q.heldOutSplit}")` : ''}, never trained on`;
  return `QC kept step ${q.keptStep} of ${q.loss.length}${q.keptStep === 0 ? ' (no correction)' : ''}: the best mAP@.5:.95 on ${where}${best ? ` (${(100 * best.map).toFixed(2)})` : ''}.`;
}

/** One sentence on QC against QAT that reads right whether QC helped or not, with the 95% interval where computed. */
export function gapSentence(g: GapRecovered): string {
  const pct = (x: number): string => `${(Math.abs(x) * 100).toFixed(1)}%`;
  const ci = g.mapCi ? ` (95% CI ${shareCiText(g.mapCi)}${g.mapCi[0] <= 0 && g.mapCi[1] >= 0 ? `, ${NOISE}` : ''})` : '';
  return g.map >= 0
    ? `QC recovered ${pct(g.map)}${ci} of the float → QAT gap in mAP@.5:.95 (${g.map50 >= 0 ? '' : 'lost '}${pct(g.map50)} at .5).`
    : `QC lowered mAP@.5:.95 below the QAT model's, by ${pct(g.map)}${ci} of the float → QAT gap: keep the QAT model, or try more calibration images or steps.`;
}

export function toComparison(r: CompareReport, title: string, extras: ComparisonExtras = {}): MapComparison {
  let notes = [...(r.comparison.notes ?? [])];
  if (extras.variantsAsked === false) notes = notes.filter((n) => !/soft-round|latent variant/i.test(n));
  const kept = extras.qc && keptStepSentence(extras.qc);
  if (kept) notes.unshift(kept);
  if (r.gapRecovered) notes.unshift(gapSentence(r.gapRecovered));
  notes.unshift(...(extras.lead ?? []));
  return { ...r.comparison, title, entries: r.comparison.entries, outputs: [...(r.comparison.outputs ?? []), ...(extras.outputs ?? [])], notes, ...(extras.qc ? { qc: extras.qc } : {}) };
}
