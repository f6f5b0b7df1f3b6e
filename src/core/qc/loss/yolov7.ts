// YOLOv7's ComputeLossOTA (WongKinYiu/yolov7 utils/loss.py) on NCHW heads [bs, na*(5+nc), ny, nx],
// value and analytic gradient. The assignment (build_targets) runs on the detached predictions:
// find_3_positive's candidate cells (YOLOv5's matching), then per image the SimOTA-style choice —
// pairwise IoU of targets and candidate boxes in pixels, dynamic k = max(1, trunc(sum of the 10
// best IoUs)), cost = class BCE of sqrt(σ(cls)·σ(obj)) + 3·(-log(IoU + 1e-8)), the k cheapest
// candidates per target (ties broken as torch.topk breaks them: two candidates of one cell cost
// the same), a candidate claimed twice kept by its cheapest target. The loss on the
// chosen cells is YOLOv5's (anchorLoss.ts) with yolov7's bbox_iou form. Checked against the original
// code in test/qc/loss-yolov7.test.ts.
import { anchorsInGrid, buildTargets, type ScaleTargets } from './anchorMatch';
import { anchorHeadShapes, anchorLoss } from './anchorLoss';
import { bceLogit, sigmoid } from './bce';
import { torchTopk } from './topk';
import type { DetectionLoss, HeadTensor, Target, YoloLossConfig } from './types';

const f = Math.fround;

export function yolov7Loss(cfg: YoloLossConfig): DetectionLoss {
  const anchors = anchorsInGrid(cfg);
  return {
    family: 'yolov7',
    compute(heads, targets) {
      const shapes = anchorHeadShapes(heads, targets, anchors, cfg.nc);
      const candidates = buildTargets(shapes, targets, anchors, cfg.anchorT ?? 4.0);
      return anchorLoss(heads, shapes, otaTargets(heads, shapes, targets, candidates, cfg), cfg, 'v7');
    },
  };
}

interface Candidate {
  layer: number;
  k: number;
  box: number[];
  obj: number;
  cls: number[];
}

/** build_targets of ComputeLossOTA: the chosen candidates per scale, in the original's order. */
export function otaTargets(heads: HeadTensor[], shapes: number[][], targets: Target[], cand: ScaleTargets[], cfg: YoloLossConfig): ScaleTargets[] {
  const bs = shapes[0][0],
    nc = cfg.nc;
  // imgs[b].shape[1]: the image height scales x and y alike (yolov7 trains on square images).
  const size = shapes[0][2] * cfg.strides[0];
  const out: ScaleTargets[] = shapes.map(() => ({ b: [], a: [], gj: [], gi: [], tbox: [], anch: [], tcls: [], ti: [] }));
  for (let b = 0; b < bs; b++) {
    const tis = targets.map((_, i) => i).filter((i) => targets[i][0] === b);
    if (!tis.length) continue;
    const tbox = tis.map((i) => xyxy(targets[i][2] * size, targets[i][3] * size, targets[i][4] * size, targets[i][5] * size));
    const cs: Candidate[] = [];
    shapes.forEach(([, na, ny, nx, no], layer) => {
      const d = heads[layer].data,
        plane = ny * nx,
        st = cfg.strides[layer],
        c = cand[layer];
      for (let k = 0; k < c.b.length; k++) {
        if (c.b[k] !== b) continue;
        const o = (b * na + c.a[k]) * no * plane + c.gj[k] * nx + c.gi[k];
        const v = (ch: number) => d[o + ch * plane];
        const px = (sigmoid(v(0)) * 2 - 0.5 + c.gi[k]) * st,
          py = (sigmoid(v(1)) * 2 - 0.5 + c.gj[k]) * st;
        const pw = (sigmoid(v(2)) * 2) ** 2 * c.anch[k][0] * st,
          ph = (sigmoid(v(3)) * 2) ** 2 * c.anch[k][1] * st;
        const cls: number[] = [];
        for (let j = 0; j < nc; j++) cls.push(v(5 + j));
        cs.push({ layer, k, box: xyxy(px, py, pw, ph), obj: v(4), cls });
      }
    });
    if (!cs.length) continue;
    const ng = tis.length,
      n = cs.length;
    const cost = tis.map((ti, g) =>
      cs.map((c) => {
        const iou = boxIou(tbox[g], c.box);
        let cl = 0;
        const so = sigmoid(c.obj);
        for (let j = 0; j < nc; j++) {
          const y = Math.sqrt(sigmoid(c.cls[j]) * so);
          cl += bceLogit(Math.log(y / (1 - y)), j === targets[ti][1] ? 1 : 0);
        }
        return { iou, cost: cl + 3 * -Math.log(iou + 1e-8) };
      }),
    );
    // matching[g][c]: the dynamic-k cheapest candidates of each target.
    const owner = new Array<number>(n).fill(-1),
      claims = new Array<number>(n).fill(0);
    const chosen: boolean[][] = cost.map((row) => {
      const ious = row
        .map((r) => r.iou)
        .sort((x, y) => y - x)
        .slice(0, Math.min(10, n));
      const k = Math.max(1, Math.trunc(ious.reduce((s, x) => s + x, 0)));
      const pick = new Array<boolean>(n).fill(false);
      for (const c of torchTopk(
        row.map((r) => r.cost),
        k,
        false,
      ))
        pick[c] = true;
      return pick;
    });
    for (let c = 0; c < n; c++) {
      for (let g = 0; g < ng; g++)
        if (chosen[g][c]) {
          claims[c]++;
          owner[c] = g;
        }
      if (claims[c] > 1) {
        // torch.min over the targets: the first cheapest
        let best = 0;
        for (let g = 1; g < ng; g++) if (cost[g][c].cost < cost[best][c].cost) best = g;
        owner[c] = best;
      }
    }
    shapes.forEach(([, , ny, nx], layer) => {
      const o = out[layer],
        c = cand[layer];
      cs.forEach((cd, ci) => {
        if (cd.layer !== layer || owner[ci] < 0) return;
        const ti = tis[owner[ci]],
          t = targets[ti],
          k = cd.k;
        o.b.push(b);
        o.a.push(c.a[k]);
        o.gj.push(c.gj[k]);
        o.gi.push(c.gi[k]);
        o.anch.push(c.anch[k]);
        o.tcls.push(t[1]);
        o.ti.push(ti);
        // targets[i][:, 2:6] * [nx, ny, nx, ny] in float32, then xy -= the candidate's cell
        o.tbox.push([f(f(t[2] * nx) - c.gi[k]), f(f(t[3] * ny) - c.gj[k]), f(t[4] * nx), f(t[5] * ny)]);
      });
    });
  }
  return out;
}

const xyxy = (x: number, y: number, w: number, h: number) => [x - w / 2, y - h / 2, x + w / 2, y + h / 2];

/** box_iou of general.py (torchvision's): plain IoU of two xyxy boxes, no eps. */
function boxIou(a: number[], b: number[]): number {
  const inter = Math.max(Math.min(a[2], b[2]) - Math.max(a[0], b[0]), 0) * Math.max(Math.min(a[3], b[3]) - Math.max(a[1], b[1]), 0);
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}
