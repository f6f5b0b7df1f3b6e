// Where QC chooses its step, as users write it (`--holdout`, the qatLens.qc.holdout setting). A leaf
// module: the host's settings read it without loading the QC engine.

/** The split `--holdout auto` chooses the step on where the data set has it. */
export const HOLDOUT_SPLIT = 'holdout';

/**
 * A holdout as text (`--holdout`, the qatLens.qc.holdout setting): a positive whole number of
 * calibration images, or a split name ("auto" included); undefined where it is neither.
 */
export function parseHoldout(text: string): number | string | undefined {
  if (/^\d+$/.test(text)) return Number(text) >= 1 ? Number(text) : undefined;
  return /^[A-Za-z_][\w.-]*$/.test(text) ? text : undefined;
}
