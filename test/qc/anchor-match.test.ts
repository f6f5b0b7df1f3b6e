// YOLOv5's anchor matching (src/core/qc/loss/anchorMatch.ts): the centre cell plus the two neighbour
// cells nearer the box centre, for every anchor within anchor_t of the box.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchorsInGrid, buildTargets } from '../../src/core/qc/loss/anchorMatch';

test('anchor matching picks neighbour cells like YOLOv5', () => {
  // One target at (0.3, 0.7) of an 8x8 grid: cell (2, 5), fractional (0.4, 0.6) -> left neighbour
  // (x frac < 0.5) and lower neighbour (y frac > 0.5): 3 cells for each anchor that fits.
  const anchors = anchorsInGrid({ anchors: [[16, 16, 200, 200]], strides: [8], nc: 1, imgsz: 64 });
  const [t] = buildTargets([[1, 2, 8, 8, 6]], [[0, 0, 0.3, 0.7, 0.25, 0.25]], anchors);
  assert.deepEqual(t.a, [0, 0, 0]); // the 200-px anchor is > 4x the 16-px box: rejected
  assert.deepEqual(t.gi, [2, 1, 2]);
  assert.deepEqual(t.gj, [5, 5, 6]);
});
