#!/usr/bin/python3
"""Paired ablations of make_shapes.py's rendering: the same seeds and random draws, one part of the
drawing switched off or replaced, so that the example's models scored on the variant against the
plain images (tools/example/paired_shapes.ts) bound how much that part can move mAP.

  /usr/bin/python3 tools/example/shapes_ablation.py --variant noblur --out /tmp/abl/noblur --count 1500
  node --import tsx tools/example/clutter_cases.ts /tmp/cases.json && \
    /usr/bin/python3 tools/example/shapes_ablation.py --check-clutter /tmp/cases.json

Variants (labels are unchanged by every one; the val split only, never train):
  none       make_shapes.py as is
  noblur     no GaussianBlur (the random draw for it still happens)
  noclutter  no clutter lines or arcs (their random draws still happen)
  gaussblur  a true Gaussian instead of Pillow's box-blur approximation: the TypeScript port's blur
             (kernel to 3 sigma, edges extended, rounded once), src/core/data/shapes/raster.ts
  tsclutter  the clutter lines and arcs drawn as the TypeScript port draws them (raster.ts line1,
             line, arc; wide lines as polygons) instead of by Pillow
"""
import argparse
import json
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_shapes  # noqa: E402


def _gauss(img, sigma):
    """The TypeScript port's gaussianBlur on an RGB PIL image."""
    r = max(1, math.ceil(3 * sigma))
    k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma * sigma))
    k /= k.sum()
    a = np.asarray(img, dtype=np.float64)
    h, w = a.shape[:2]
    xi = np.clip(np.arange(w)[:, None] + np.arange(-r, r + 1)[None, :], 0, w - 1)
    t = np.einsum('hwkc,k->hwc', a[:, xi, :], k)
    yi = np.clip(np.arange(h)[:, None] + np.arange(-r, r + 1)[None, :], 0, h - 1)
    o = np.einsum('hkwc,k->hwc', t[yi, :, :], k)
    return Image.fromarray(np.clip(np.floor(o + 0.5), 0, 255).astype(np.uint8))


def _ts_fill(pts, grow):
    """raster.ts fillPolygon: pixels whose centres lie inside the polygon grown by `grow`."""
    n = len(pts)
    xs = [p[0] - 0.5 for p in pts]
    ys = [p[1] - 0.5 for p in pts]
    ymin, ymax = min(ys), max(ys)
    out = []
    for y in range(max(0, math.ceil(ymin - grow)), min(make_shapes.IMG - 1, math.floor(ymax + grow)) + 1):
        yy = min(max(y, ymin), ymax - 1e-9)
        cross = []
        for i in range(n):
            j = (i + 1) % n
            ya, yb = ys[i], ys[j]
            if ya == yb:
                continue
            if ya <= yy < yb or yb <= yy < ya:
                cross.append(xs[i] + (yy - ya) * (xs[j] - xs[i]) / (yb - ya))
        cross.sort()
        for k in range(0, len(cross) - 1, 2):
            xa = max(0, math.ceil(cross[k] - grow))
            xb = min(make_shapes.IMG - 1, math.floor(cross[k + 1] + grow))
            out.extend((x, y) for x in range(xa, xb + 1))
    return out


def _ts_line1(x0, y0, x1, y1):
    x, y, xe, ye = math.floor(x0), math.floor(y0), math.floor(x1), math.floor(y1)
    dx, dy = abs(xe - x), -abs(ye - y)
    sx, sy = (1 if x < xe else -1), (1 if y < ye else -1)
    err = dx + dy
    out = []
    while True:
        out.append((x, y))
        if x == xe and y == ye:
            return out
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x += sx
        if e2 <= dx:
            err += dx
            y += sy


def _ts_line(x0, y0, x1, y1, width):
    length = math.hypot(x1 - x0, y1 - y0)
    if width <= 1 or length == 0:
        return _ts_line1(x0, y0, x1, y1)
    nx, ny = -(y1 - y0) / length * (width / 2), (x1 - x0) / length * (width / 2)
    return _ts_fill([(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)], 0)


def _ts_arc(x0, y0, x1, y1, start, end, width):
    while end < start:
        end += 360
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    steps = max(2, math.ceil((end - start) / 360 * max(rx, ry) * 2 * math.pi / 2))
    px, py = cx + rx * math.cos(start * math.pi / 180), cy + ry * math.sin(start * math.pi / 180)
    out = []
    for i in range(1, steps + 1):
        a = (start + (end - start) * i / steps) * math.pi / 180
        qx, qy = cx + rx * math.cos(a), cy + ry * math.sin(a)
        out.extend(_ts_line(px, py, qx, qy, width))
        px, py = qx, qy
    return out


def _points(draw, pts, fill):
    ink, _ = draw._getink(fill)
    inside = [(x, y) for x, y in pts if 0 <= x < make_shapes.IMG and 0 <= y < make_shapes.IMG]
    if inside:
        draw.draw.draw_points(inside, ink)


def apply(variant):
    if variant == 'noblur':
        Image.Image.filter = lambda self, f: self
    elif variant == 'gaussblur':
        plain = Image.Image.filter
        Image.Image.filter = lambda self, f: _gauss(self, f.radius) if isinstance(f, ImageFilter.GaussianBlur) else plain(self, f)
    elif variant == 'noclutter':
        # Only the clutter calls line() and arc(); polygon outlines go through draw_polygon.
        ImageDraw.ImageDraw.line = lambda self, *a, **k: None
        ImageDraw.ImageDraw.arc = lambda self, *a, **k: None
    elif variant == 'tsclutter':
        def line(self, xy, fill=None, width=0, joint=None):
            (x0, y0), (x1, y1) = xy
            _points(self, _ts_line(float(x0), float(y0), float(x1), float(y1), width), fill)

        def arc(self, xy, start, end, fill=None, width=1):
            _points(self, _ts_arc(*(float(v) for v in xy), start, end, width), fill)
        ImageDraw.ImageDraw.line = line
        ImageDraw.ImageDraw.arc = arc
    elif variant != 'none':
        raise SystemExit(f'unknown variant {variant}')


def check_clutter(path):
    """The Python copy of raster.ts line/arc against the pixels the TS port set (clutter_cases.ts)."""
    cases = json.load(open(path))
    bad = 0
    for c in cases:
        a = c['args']
        pts = _ts_line(*a[:4], int(a[4])) if c['kind'] == 'line' else _ts_arc(*a[:6], int(a[6]))
        got = sorted({y * make_shapes.IMG + x for x, y in pts if 0 <= x < make_shapes.IMG and 0 <= y < make_shapes.IMG})
        bad += got != c['pixels']
    print(f'{len(cases) - bad} of {len(cases)} lines and arcs pixel-equal to the TS port')
    return bad == 0


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--check-clutter', metavar='JSON', help='compare with tools/example/clutter_cases.ts output and exit')
    ap.add_argument('--variant')
    ap.add_argument('--out')
    ap.add_argument('--count', type=int)
    ap.add_argument('--workers', type=int, default=1)
    a = ap.parse_args()
    if a.check_clutter:
        sys.exit(0 if check_clutter(a.check_clutter) else 1)
    if not (a.variant and a.out and a.count):
        ap.error('--variant, --out and --count are required')
    apply(a.variant)
    make_shapes.write_split(a.out, 'val', a.count, make_shapes.SEED, a.workers)
