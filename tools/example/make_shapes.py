#!/usr/bin/python3
"""Seeded synthetic detection data set: coloured shapes on noisy, textured backgrounds.

Each image is a pure function of (seed, split, index), so any split regenerates bit-identically
whatever the number of worker processes.

  /usr/bin/python3 tools/example/make_shapes.py --out examples/shapes --split val --count 200
  /usr/bin/python3 tools/example/make_shapes.py --out /tmp/shapes --split train --count 8000 --workers 16

Writes images/<split>/*.jpg, labels/<split>/*.txt (YOLO: class cx cy w h, normalised) and
annotations/instances_<split>.json (COCO; category_id = class + 1, area = box w*h in pixels).
"""
import argparse
import io
import json
import math
import os
from multiprocessing import Pool

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

NAMES = ['circle', 'square', 'triangle', 'star', 'cross']
IMG = 320
SPLIT_IDS = {'train': 0, 'calib': 1, 'val': 2}
SEED = 20261126
JPEG_QUALITY = 80


def _background(rng):
    """Smooth colour field + blotchy low-frequency texture + stripes or dots + pixel noise."""
    base = rng.uniform(30, 225, size=3)
    low = rng.uniform(-60, 60, size=(rng.integers(3, 7), rng.integers(3, 7), 3))
    low_img = Image.fromarray(np.clip(low + 128, 0, 255).astype(np.uint8)).resize((IMG, IMG), Image.BICUBIC)
    img = base + (np.asarray(low_img, dtype=np.float32) - 128)
    kind = rng.integers(0, 3)
    yy, xx = np.mgrid[0:IMG, 0:IMG].astype(np.float32)
    if kind == 0:  # stripes at a random angle
        a = rng.uniform(0, math.pi)
        period = rng.uniform(6, 30)
        wave = np.sin((xx * math.cos(a) + yy * math.sin(a)) * 2 * math.pi / period)
        img += wave[..., None] * rng.uniform(5, 25, size=3)
    elif kind == 1:  # mid-frequency blotches
        mid = rng.uniform(-1, 1, size=(rng.integers(16, 40), rng.integers(16, 40)))
        mid_img = Image.fromarray(((mid + 1) * 127.5).astype(np.uint8)).resize((IMG, IMG), Image.BILINEAR)
        img += ((np.asarray(mid_img, dtype=np.float32) / 127.5) - 1)[..., None] * rng.uniform(5, 25, size=3)
    img += rng.normal(0, rng.uniform(2, 7), size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _shape_points(cls, cx, cy, r, rot):
    """Polygon vertices of a shape of 'radius' r centred at (cx, cy), rotated by rot."""
    if cls == 0:
        n, radii = 48, [r]
    elif cls == 1:
        n, radii = 4, [r]
    elif cls == 2:
        n, radii = 3, [r]
    elif cls == 3:
        n, radii = 10, [r, r * 0.45]
    else:  # cross: 12 vertices of a plus sign with arm half-width 0.33 r
        w = 0.33 * r
        pts = [(w, r), (w, w), (r, w), (r, -w), (w, -w), (w, -r), (-w, -r), (-w, -w), (-r, -w), (-r, w), (-w, w), (-w, r)]
        c, s = math.cos(rot), math.sin(rot)
        return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]
    pts = []
    for i in range(n):
        a = rot + 2 * math.pi * i / n
        rr = radii[i % len(radii)]
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + 1e-9)


def make_image(split, index, seed=SEED):
    """Returns (RGB PIL image after a JPEG round trip, list of (cls, x0, y0, x1, y1) in pixels)."""
    rng = np.random.default_rng([seed, SPLIT_IDS[split], index])
    img = Image.fromarray(_background(rng))
    draw = ImageDraw.Draw(img)
    # clutter: unlabelled lines and arcs
    for _ in range(rng.integers(2, 9)):
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        p = rng.uniform(0, IMG, 4)
        if rng.random() < 0.5:
            draw.line([(p[0], p[1]), (p[2], p[3])], fill=col, width=int(rng.integers(1, 4)))
        else:
            x0, y0 = min(p[0], p[2]), min(p[1], p[3])
            draw.arc([x0, y0, x0 + abs(p[2] - p[0]) + 5, y0 + abs(p[3] - p[1]) + 5],
                     float(rng.uniform(0, 360)), float(rng.uniform(0, 360)), fill=col, width=int(rng.integers(1, 3)))
    boxes = []
    for _ in range(rng.integers(1, 11)):
        for _try in range(20):
            cls = int(rng.integers(0, len(NAMES)))
            r = float(math.exp(rng.uniform(math.log(5), math.log(70))))  # 10..140 px across, many small
            cx, cy = rng.uniform(-0.2 * r, IMG + 0.2 * r, 2)
            pts = _shape_points(cls, cx, cy, r, float(rng.uniform(0, 2 * math.pi)))
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            box = (max(0.0, min(xs)), max(0.0, min(ys)), min(float(IMG), max(xs)), min(float(IMG), max(ys)))
            if box[2] - box[0] < 6 or box[3] - box[1] < 6:
                continue  # mostly outside the image
            if any(_iou(box, b[1:]) > 0.35 for b in boxes):
                continue  # keep overlap partial so labels stay meaningful
            col = rng.integers(0, 256, 3)
            if rng.random() < 0.7:  # push the colour away from the local background
                bg = np.asarray(img.crop((int(box[0]), int(box[1]), int(box[2]) + 1, int(box[3]) + 1))).reshape(-1, 3).mean(0)
                col = np.where(np.abs(col - bg) < 60, (bg + 128) % 256, col)
            fill = tuple(int(v) for v in col)
            outline = tuple(int(v) for v in rng.integers(0, 256, 3)) if rng.random() < 0.3 else None
            draw.polygon(pts, fill=fill, outline=outline)
            boxes.append((cls,) + box)
            break
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
    buf = io.BytesIO()
    img.save(buf, format='JPEG', quality=JPEG_QUALITY)
    data = buf.getvalue()
    return Image.open(io.BytesIO(data)).convert('RGB'), boxes, data


def _one(args):
    split, i, seed = args
    _, boxes, data = make_image(split, i, seed)
    return i, boxes, data


def write_split(out, split, count, seed=SEED, workers=1):
    for sub in ('images', 'labels'):
        os.makedirs(os.path.join(out, sub, split), exist_ok=True)
    os.makedirs(os.path.join(out, 'annotations'), exist_ok=True)
    jobs = [(split, i, seed) for i in range(count)]
    if workers > 1:
        with Pool(workers) as pool:
            results = pool.map(_one, jobs, chunksize=16)
    else:
        results = [_one(j) for j in jobs]
    images, anns = [], []
    nbytes = 0
    for i, boxes, data in results:
        name = f'{i:06d}'
        with open(os.path.join(out, 'images', split, name + '.jpg'), 'wb') as f:
            f.write(data)
        nbytes += len(data)
        lines = []
        for cls, x0, y0, x1, y1 in boxes:
            lines.append(f'{cls} {(x0 + x1) / 2 / IMG:.6f} {(y0 + y1) / 2 / IMG:.6f} {(x1 - x0) / IMG:.6f} {(y1 - y0) / IMG:.6f}')
            w, h = round(x1 - x0, 3), round(y1 - y0, 3)
            anns.append({'id': len(anns) + 1, 'image_id': i + 1, 'category_id': cls + 1,
                         'bbox': [round(x0, 3), round(y0, 3), w, h],
                         'area': round(w * h, 3), 'iscrowd': 0})  # area of the stored box
        with open(os.path.join(out, 'labels', split, name + '.txt'), 'w') as f:
            f.write('\n'.join(lines) + ('\n' if lines else ''))
        images.append({'id': i + 1, 'file_name': name + '.jpg', 'width': IMG, 'height': IMG})
    coco = {'info': {'description': f'QAT Lens shapes example, split {split}, seed {seed}'},
            'images': images, 'annotations': anns,
            'categories': [{'id': k + 1, 'name': n, 'supercategory': 'shape'} for k, n in enumerate(NAMES)]}
    with open(os.path.join(out, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f, separators=(',', ':'))
    print(f'{split}: {count} images, {len(anns)} objects, {nbytes / 1e6:.2f} MB of JPEG')
    return images, anns


def write_data_yaml(out):
    with open(os.path.join(out, 'data.yaml'), 'w') as f:
        f.write('# QAT Lens shapes example (YOLOv5 data file). train is not committed: regenerate it with\n'
                '# /usr/bin/python3 tools/example/make_shapes.py --out examples/shapes --split train --count 8000\n'
                'path: .\ntrain: images/train\nval: images/val\ncalib: images/calib\n'
                f'nc: {len(NAMES)}\nnames: [{", ".join(NAMES)}]\n')


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='examples/shapes')
    ap.add_argument('--split', choices=list(SPLIT_IDS), required=True)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--seed', type=int, default=SEED)
    ap.add_argument('--workers', type=int, default=1)
    a = ap.parse_args()
    write_split(a.out, a.split, a.count, a.seed, a.workers)
    write_data_yaml(a.out)
