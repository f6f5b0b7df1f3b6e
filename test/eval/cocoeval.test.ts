// The COCO evaluator on hand-made cases whose numbers are derived by hand in the comments.
// Conventions used below (pycocotools'): precision at detection j is tp/(tp+fp+eps) with
// eps = 2.2e-16, made non-increasing from the right, and read at recall thresholds
// r = 0, .01, ..., 1 at the first detection whose recall is >= r; 0 past the last one.
// AP = mean over the 101 thresholds (and the 10 IoU thresholds). 1/(1+eps) is 1 - 2.2e-16,
// hence the 1e-12 tolerance against exact fractions.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evalCommand } from '../../src/cli/commands/eval';
import { evaluateCoco, type CocoAnnotation, type CocoDet, type CocoGt } from '../../src/core/eval/cocoeval';
import { loadCocoGt, loadCocoResults } from '../../src/core/eval/cocoFiles';
import { pairwiseSum, pyFixed } from '../../src/core/eval/numpyCompat';
import { quietContext } from '../../src/core/context';
import { runEval } from '../../src/core/jobs/eval';

type Box = [number, number, number, number];
const near = (a: number, b: number, what = '') => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
const ann = (id: number, image_id: number, bbox: Box, extra: Partial<CocoAnnotation> = {}): CocoAnnotation => ({
  id,
  image_id,
  category_id: 1,
  bbox,
  area: bbox[2] * bbox[3],
  iscrowd: 0,
  ...extra,
});
const det = (image_id: number, bbox: Box, score: number, category_id = 1): CocoDet => ({ image_id, category_id, bbox, score });
const gtOf = (annotations: CocoAnnotation[], images = [1], cats = [1]): CocoGt => ({
  images: images.map((id) => ({ id })),
  annotations,
  categories: cats.map((id) => ({ id, name: `cat${id}` })),
});

test('a false positive ranked above the true positive halves AP', () => {
  // 1 gt (10x10: small), dts by score: FP (.95), exact TP (.9).
  // tp = [0,1], fp = [1,1] -> rc = [0,1], pr = [0,.5] -> monotone [.5,.5]; every threshold reads .5.
  const r = evaluateCoco(gtOf([ann(1, 1, [0, 0, 10, 10])]), [det(1, [50, 0, 10, 10], 0.95), det(1, [0, 0, 10, 10], 0.9)]);
  near(r.stats[0], 0.5, 'AP');
  near(r.stats[1], 0.5, 'AP50');
  near(r.stats[2], 0.5, 'AP75');
  near(r.stats[3], 0.5, 'APs');
  assert.equal(r.stats[4], -1, 'no medium gt');
  assert.equal(r.stats[5], -1, 'no large gt');
  assert.equal(r.stats[6], 0, 'AR1: the single kept detection is the FP');
  assert.equal(r.stats[7], 1, 'AR10');
  assert.equal(r.stats[8], 1, 'AR100');
  near(r.perCategory[1].ap, 0.5);
  assert.deepEqual(r.summaryText.split('\n').slice(0, 2), [
    ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500',
    ' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.500',
  ]);
  assert.equal(r.summaryText.split('\n')[6], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.000');
  assert.equal(r.summaryText.split('\n')[10], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000');
});

test('the true positive ranked first gives AP 1', () => {
  // TP (.95), FP (.9): rc = [1,1], pr = [1/(1+eps), .5] -> every threshold reads index 0.
  const r = evaluateCoco(gtOf([ann(1, 1, [0, 0, 10, 10])]), [det(1, [0, 0, 10, 10], 0.95), det(1, [50, 0, 10, 10], 0.9)]);
  near(r.stats[0], 1, 'AP');
  assert.equal(r.stats[0], 1 / (1 + 2.220446049250313e-16), 'precision carries the eps');
  assert.equal(r.stats[6], 1, 'AR1');
});

test('two gts, TP FP TP: AP = (51 * 1 + 50 * 2/3) / 101', () => {
  // tp = [1,1,2], fp = [0,1,1] -> rc = [.5,.5,1], pr = [1,.5,2/3] -> monotone [1,2/3,2/3].
  // thresholds 0...50 (r <= .5) read index 0 -> 1; 51...100 read index 2 -> 2/3.
  const gt = gtOf([ann(1, 1, [0, 0, 20, 20]), ann(2, 1, [100, 100, 20, 20])]);
  const r = evaluateCoco(gt, [det(1, [0, 0, 20, 20], 0.9), det(1, [300, 300, 20, 20], 0.8), det(1, [100, 100, 20, 20], 0.7)]);
  near(r.stats[0], (51 + 50 * (2 / 3)) / 101, 'AP');
  near(r.curves.iou50.overall[50], 1, 'curve at recall .5');
  near(r.curves.iou50.overall[51], 2 / 3, 'curve at recall .51');
  assert.equal(r.curves.recall.length, 101);
});

test('IoU thresholds: a detection with IoU exactly .6 counts at .50, .55, .60 only', () => {
  // gt 10x10, dt 10x6 inside it: IoU = 60/100 = .6 -> TP at 3 of 10 thresholds; AP = 3/10.
  const r = evaluateCoco(gtOf([ann(1, 1, [0, 0, 10, 10])]), [det(1, [0, 0, 10, 6], 0.9)]);
  near(r.stats[0], 0.3, 'AP');
  near(r.stats[1], 1, 'AP50');
  assert.equal(r.stats[2], 0, 'AP75');
  near(r.stats[8], 0.3, 'AR100');
});

test('crowd regions: detections inside are ignored, matched by intersection over detection area', () => {
  // Regular gt at (0,0,20,20) plus a crowd region (100,100,200,200). Detections: TP (.9), and three
  // small boxes inside the crowd region (IoU with it is tiny, intersection/dt-area is 1): ignored,
  // not false positives, so AP = 1 (eps aside). Without the crowd flag they would be FPs ranked
  // above the TP: AP = 1/4.
  const gt = gtOf([ann(1, 1, [0, 0, 20, 20]), ann(2, 1, [100, 100, 200, 200], { iscrowd: 1 })]);
  const dets = [det(1, [110, 110, 10, 10], 0.99), det(1, [150, 150, 10, 10], 0.98), det(1, [200, 200, 10, 10], 0.97), det(1, [0, 0, 20, 20], 0.9)];
  near(evaluateCoco(gt, dets).stats[0], 1, 'AP with crowd');
  gt.annotations[1].iscrowd = 0;
  // now 2 gts: FP FP FP TP -> rc [0,0,0,.5], pr [0,0,0,.25] -> .25 up to recall .5 (51 thresholds)
  near(evaluateCoco(gt, dets).stats[1], (51 * 0.25) / 101, 'AP50 without crowd');
});

test('area ranges use the annotation area for gt and w*h for detections, inclusive at 32^2 and 96^2', () => {
  // gt box 10x10 but area field 1024 (= 32^2): both "small" and "medium" (ranges are closed).
  const gt = gtOf([ann(1, 1, [0, 0, 10, 10], { area: 1024 })]);
  const r = evaluateCoco(gt, [det(1, [0, 0, 10, 10], 0.9)]);
  near(r.stats[3], 1, 'APs');
  near(r.stats[4], 1, 'APm');
  assert.equal(r.stats[5], -1, 'APl: no large gt');
  // An unmatched detection of area 40*40 = 1600 (medium) is ignored in "small": APs stays 1,
  // while in "medium" and "all" it is a FP ranked first: AP = .5.
  const r2 = evaluateCoco(gt, [det(1, [200, 200, 40, 40], 0.95), det(1, [0, 0, 10, 10], 0.9)]);
  near(r2.stats[3], 1, 'APs');
  near(r2.stats[4], 0.5, 'APm');
  near(r2.stats[0], 0.5, 'AP');
});

test('at most 100 detections per image and category; AR1/AR10 cap earlier', () => {
  // One gt; 99 FPs scored .9, then the TP scored .1 (rank 100 of 100): rc reaches 1 at the 100th,
  // pr there 1/100 -> AP = .01, AR100 = 1, AR10 = AR1 = 0. One more FP pushes the TP past the cap.
  const fps = Array.from({ length: 99 }, (_, j) => det(1, [100 + j * 20, 300, 10, 10], 0.9));
  const gt = gtOf([ann(1, 1, [0, 0, 10, 10])]);
  const r = evaluateCoco(gt, [...fps, det(1, [0, 0, 10, 10], 0.1)]);
  near(r.stats[0], 0.01, 'AP');
  assert.deepEqual(r.stats.slice(6, 9), [0, 0, 1]);
  const r2 = evaluateCoco(gt, [...fps, det(1, [0, 0, 500, 500], 0.5), det(1, [0, 0, 10, 10], 0.1)]);
  assert.equal(r2.stats[0], 0, 'the TP is the 101st detection: dropped');
  assert.equal(r2.stats[8], 0);
});

test('score ties across images are broken by ascending image id (numeric), then file order', () => {
  // Images 9 and 10 (listed as 10, 9), one gt each. Image 9: an FP scored .5; image 10: a TP .5.
  // Image 9 comes first: FP, TP -> rc [0,.5], pr [0,.5] -> monotone [.5,.5]: AP50 = 51 * .5 / 101.
  const gt = gtOf([ann(1, 10, [0, 0, 10, 10]), ann(2, 9, [0, 0, 10, 10])], [10, 9]);
  near(evaluateCoco(gt, [det(10, [0, 0, 10, 10], 0.5), det(9, [50, 50, 10, 10], 0.5)]).stats[1], 25.5 / 101);
  // Swap which image holds the FP: TP, FP -> rc [.5,.5], pr [1,.5]: AP50 = 51 / 101.
  near(evaluateCoco(gt, [det(9, [0, 0, 10, 10], 0.5), det(10, [50, 50, 10, 10], 0.5)]).stats[1], 51 / 101);
});

test('categories without gt are -1 and left out of the means; images without detections count their gt', () => {
  // cat 1: gt on images 1 and 2, one exact TP on image 1 only: rc [.5], pr [1] -> thresholds <= .5
  // read 1, the rest 0: AP = 51/101. cat 2: no gt but a detection: -1, not averaged in.
  const gt = gtOf([ann(1, 1, [0, 0, 10, 10]), ann(2, 2, [0, 0, 10, 10])], [1, 2], [1, 2]);
  const r = evaluateCoco(gt, [det(1, [0, 0, 10, 10], 0.9), det(2, [0, 0, 10, 10], 0.8, 2)]);
  near(r.stats[0], 51 / 101, 'AP');
  near(r.stats[8], 0.5, 'AR100');
  assert.equal(r.perCategory[2].ap, -1);
  assert.equal(r.perCategory[2].ap50, -1);
  assert.ok(r.curves.iou50.perCategory[2].every((v) => v === -1));
});

test('pycocotools quirks kept: `ignore` is overwritten by iscrowd; a gt with id 0 reads as unmatched', () => {
  // ignore: 1 on a regular gt has no effect in pycocotools (it sets ignore = iscrowd).
  const r = evaluateCoco(gtOf([ann(1, 1, [0, 0, 10, 10], { ignore: 1 })]), [det(1, [0, 0, 10, 10], 0.9)]);
  near(r.stats[0], 1);
  // A match to gt id 0 is stored as "matched gt id 0" and then tested for truth: an FP, AP = 0,
  // yet the gt is taken, so a second detection on it is an FP too.
  const r0 = evaluateCoco(gtOf([ann(0, 1, [0, 0, 10, 10])]), [det(1, [0, 0, 10, 10], 0.9), det(1, [0, 0, 10, 10], 0.8)]);
  assert.equal(r0.stats[0], 0);
});

test('empty results give zeros where there is gt (pycocotools itself fails on an empty list)', () => {
  const r = evaluateCoco(gtOf([ann(1, 1, [0, 0, 10, 10])]), []);
  assert.deepEqual(r.stats, [0, 0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1]);
});

test('opts.imgIds restricts the evaluation to those images', () => {
  // Image 2's gt is missed; evaluating image 1 alone gives AP 1.
  const gt = gtOf([ann(1, 1, [0, 0, 10, 10]), ann(2, 2, [0, 0, 10, 10])], [1, 2]);
  const dets = [det(1, [0, 0, 10, 10], 0.9)];
  near(evaluateCoco(gt, dets).stats[0], 51 / 101);
  near(evaluateCoco(gt, dets, { imgIds: [1] }).stats[0], 1);
});

test("Python's rounding in the summary: exact ties go to even", () => {
  assert.equal(pyFixed(0.0625, 3), '0.062');
  assert.equal(pyFixed(0.1875, 3), '0.188');
  assert.equal(pyFixed(0.3125, 3), '0.312');
  assert.equal(pyFixed(0.0005, 3), '0.001'); // 0.0005 is slightly above in binary: no tie
  assert.equal(pyFixed(-1, 3), '-1.000');
  assert.equal(pyFixed(0.95, 2), '0.95');
  assert.equal(pyFixed(2.5, 0), '2');
});

test("numpy's pairwise summation order", () => {
  // Sums of 8..128 values run in 8 interleaved accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)),
  // the tail added one by one. With 1e16 (ulp 2) the order shows in the result.
  const a = [1e16, 1, 1, 1, 1, 1, 1, 1, 1];
  assert.equal(pairwiseSum(a), 1e16 + 1 + (1 + 1) + (1 + 1 + (1 + 1)) + 1);
  assert.equal(pairwiseSum(a), 1e16 + 8);
  assert.equal(
    a.reduce((s, x) => s + x, 0),
    1e16,
    'sequentially every 1 is lost',
  );
  // numpy: np.sum(np.r_[np.ones(200), 1e16]) splits 201 at 96: sum(96 ones) + sum(104 ones, 1e16)
  const c = [...Array(200).fill(1), 1e16];
  assert.equal(pairwiseSum(c), 96 + pairwiseSum(c, 96));
});

test('bad input is refused with the file and the entry named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoeval-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ images: [{ id: 1 }], categories: [], annotations: [{ id: 1, image_id: 1, category_id: 1, area: 4 }] }));
  await assert.rejects(loadCocoGt(bad), (e: Error) => e.message.startsWith(bad) && /annotations\[0\]: "bbox"/.test(e.message));
  writeFileSync(bad, '{"images": [');
  await assert.rejects(loadCocoGt(bad), /bad\.json: not valid JSON/);
  await assert.rejects(loadCocoGt(join(dir, 'missing.json')), /missing\.json: no such COCO instances file/);
  writeFileSync(bad, JSON.stringify({ annotations: [] }));
  await assert.rejects(loadCocoResults(bad), /bad\.json: not a COCO results file: .*looks like an instances file/);
  writeFileSync(bad, JSON.stringify([{ image_id: 1, category_id: 1, bbox: [0, 0, 1, 1] }]));
  await assert.rejects(loadCocoResults(bad), /bad\.json: detection \[0\]: "score" must be a finite number \(missing\)/);
  const dup = gtOf([ann(1, 1, [0, 0, 1, 1]), ann(1, 1, [0, 0, 2, 2])]);
  assert.throws(() => evaluateCoco(dup, []), /annotation id 1 appears more than once/);
  assert.throws(() => evaluateCoco(gtOf([]), [det(7, [0, 0, 1, 1], 0.5)]), /image_id 7, which is not an image of the ground truth/);
});

test('the eval job writes the JSON, and `qat-lens eval` prints the 12 summary lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoeval-'));
  const gtFile = join(dir, 'gt.json');
  const dtFile = join(dir, 'dt.json');
  const out = join(dir, 'out.json');
  writeFileSync(gtFile, JSON.stringify(gtOf([ann(1, 1, [0, 0, 10, 10])], [1], [1, 3])));
  writeFileSync(dtFile, JSON.stringify([det(1, [50, 0, 10, 10], 0.95), det(1, [0, 0, 10, 10], 0.9), det(5, [0, 0, 1, 1], 0.1)]));
  await assert.rejects(runEval({ gt: gtFile, dt: dtFile }, quietContext()), (e: Error) => e.message.startsWith(dtFile) && /detection \[2\] has image_id 5/.test(e.message));
  writeFileSync(dtFile, JSON.stringify([det(1, [50, 0, 10, 10], 0.95), det(1, [0, 0, 10, 10], 0.9)]));
  const r = await runEval({ gt: gtFile, dt: dtFile, jsonOut: out }, quietContext());
  near(r.stats[0], 0.5);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(json.stats.length, 12);
  near(json.perCategory['1'].ap, 0.5);
  assert.equal(json.perCategory['3'].ap, -1);

  // What `qat-lens eval` prints for that result (the command's own print, without the process).
  const printed: string[] = [];
  evalCommand.print(r, (line) => printed.push(line));
  const lines = printed.join('\n').split('\n');
  assert.equal(lines.length, 12);
  assert.equal(lines[0], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500');
  assert.equal(lines[11], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000');
});
