// YOLOv5's build_targets (ultralytics/yolov5 utils/loss.py), also YOLOv7's find_3_positive: each
// target goes to every anchor whose wh ratio is under anchor_t, in its own cell and the two nearest
// neighbour cells (offset g = 0.5). Computed in float32 like torch so the match decisions agree.
import type { Target, YoloLossConfig } from './types';

export interface ScaleTargets {
  b: number[];
  a: number[];
  gj: number[];
  gi: number[];
  /** (gx - gi, gy - gj, gw, gh) in grid units, one row per match. */
  tbox: number[][];
  /** anchor (w, h) in grid units per match. */
  anch: number[][];
  tcls: number[];
  /** Index of the target (in the input list) each match came from. */
  ti: number[];
}

const f = Math.fround;

/** build_targets for one batch; `shapes` are the head shapes [bs, na, ny, nx, ...]. */
export function buildTargets(shapes: number[][], targets: Target[], anchorsGrid: number[][][], anchorT = 4.0): ScaleTargets[] {
  const g = 0.5;
  const off = [
    [0, 0],
    [1, 0],
    [0, 1],
    [-1, 0],
    [0, -1],
  ].map(([x, y]) => [x * g, y * g]);
  return shapes.map((shape, i) => {
    const [, na, ny, nx] = shape;
    const anchors = anchorsGrid[i];
    // Rows in torch's order: anchor-major, then target (targets.repeat(na) + mask).
    const rows: { t: Target; ti: number; a: number; gx: number; gy: number; gw: number; gh: number }[] = [];
    for (let a = 0; a < na; a++)
      targets.forEach((t, ti) => {
        const gx = f(t[2] * nx),
          gy = f(t[3] * ny),
          gw = f(t[4] * nx),
          gh = f(t[5] * ny);
        const rw = f(gw / anchors[a][0]),
          rh = f(gh / anchors[a][1]);
        const worst = Math.max(rw, f(1 / rw), rh, f(1 / rh));
        if (worst < anchorT) rows.push({ t, ti, a, gx, gy, gw, gh });
      });
    const out: ScaleTargets = { b: [], a: [], gj: [], gi: [], tbox: [], anch: [], tcls: [], ti: [] };
    for (let o = 0; o < 5; o++)
      for (const r of rows) {
        const gxi = f(nx - r.gx),
          gyi = f(ny - r.gy);
        const mod = (v: number) => f(v - Math.floor(v));
        const take = [true, mod(r.gx) < g && r.gx > 1, mod(r.gy) < g && r.gy > 1, mod(gxi) < g && gxi > 1, mod(gyi) < g && gyi > 1][o];
        if (!take) continue;
        // torch clamps gi/gj in place (views of gij), so tbox uses the clamped cell too.
        const gi = Math.min(Math.max(Math.trunc(f(r.gx - off[o][0])), 0), nx - 1);
        const gj = Math.min(Math.max(Math.trunc(f(r.gy - off[o][1])), 0), ny - 1);
        out.b.push(r.t[0]);
        out.a.push(r.a);
        out.tcls.push(r.t[1]);
        out.ti.push(r.ti);
        out.gj.push(gj);
        out.gi.push(gi);
        out.tbox.push([f(r.gx - gi), f(r.gy - gj), r.gw, r.gh]);
        out.anch.push(anchors[r.a]);
      }
    return out;
  });
}

/** Anchors per scale in grid units (pixels / stride), float32 like YOLOv5's buffer. */
export function anchorsInGrid(cfg: YoloLossConfig): number[][][] {
  return cfg.anchors.map((flat, i) => {
    const out: number[][] = [];
    for (let k = 0; k < flat.length; k += 2) out.push([f(flat[k] / cfg.strides[i]), f(flat[k + 1] / cfg.strides[i])]);
    return out;
  });
}
