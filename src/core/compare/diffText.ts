// How a mAP difference and its bootstrap interval read, in the terminal, the HTML report and the
// panel (which bundles this file: it imports nothing).

/** The words for an interval that contains 0. */
export const NOISE = 'not distinguishable from noise';

/** Signed points: +0.52 / −0.13 (fractions in, percentage points out). */
export const signedPts = (x: number, digits = 2): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(digits)}`;

/** "[−0.21, +0.80]" in points. */
export const ciText = (ci: readonly [number, number], digits = 2): string => `[${signedPts(ci[0], digits)}, ${signedPts(ci[1], digits)}]`;

/** Percent with sign for shares of the gap: "[+4.1%, +22.0%]". */
export const shareCiText = (ci: readonly [number, number]): string => `[${signedPts(ci[0], 1)}%, ${signedPts(ci[1], 1)}%]`;

/** "+0.52 (95% CI [−0.21, +0.80], not distinguishable from noise)". */
export function diffText(d: { map: number; mapCi: readonly [number, number]; noise: boolean }, digits = 2): string {
  return `${signedPts(d.map, digits)} (95% CI ${ciText(d.mapCi, digits)}${d.noise ? `, ${NOISE}` : ''})`;
}

/** The mAP@.5 side of a difference, in the shape diffText reads. */
export const at50 = (d: { map50: number; map50Ci: readonly [number, number] }): { map: number; mapCi: readonly [number, number]; noise: boolean } => ({
  map: d.map50,
  mapCi: d.map50Ci,
  noise: d.map50Ci[0] <= 0 && d.map50Ci[1] >= 0,
});
