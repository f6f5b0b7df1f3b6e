// Report text of a detection head. No onnxruntime here: the extension host formats results with it.
import type { DetectHeads } from './headTypes';

export const formatAnchors = (a: number[][]): string => a.map((g) => g.map((v) => +v.toFixed(3)).join(',')).join(' / ');

/** One line for reports: "yolov7 head, 6 classes, strides 8/16/32, anchors 10,13,... (from ...)". */
export function describeHeads(h: DetectHeads): string {
  const anchors = h.anchorFree ? `anchor-free (DFL, reg_max ${h.regMax})` : `anchors ${formatAnchors(h.anchors)} (from ${h.anchorSource})`;
  return `${h.family} head${h.decode === 'none' ? ' (raw outputs, decoded by QAT Lens)' : ''}, ${h.nc} classes, strides ${h.strides.join('/')}, ${anchors}`;
}
