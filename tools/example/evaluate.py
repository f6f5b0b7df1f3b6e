#!/usr/bin/python3
"""Detection evaluation for the shapes example: YOLOv5-style NMS (conf 0.001, IoU 0.6, multi-label,
max 300 per image) and a COCO-style mAP written here (NOT pycocotools, which is not available):
bbox IoU, per (image, category) the top 100 detections greedily matched to the best unmatched ground
truth at each IoU threshold 0.50:0.05:0.95, precision made monotone, read at 101 recall points, area
range 'all', averaged over thresholds and the categories that have ground truth. This follows
COCOeval.evaluate/accumulate for iouType='bbox' with no crowd boxes.

  /usr/bin/python3 tools/example/evaluate.py examples/shapes/float.pt [--split val]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load_images(root, split):
    from PIL import Image
    coco = json.load(open(os.path.join(root, 'annotations', f'instances_{split}.json')))
    imgs = np.stack([np.asarray(Image.open(os.path.join(root, 'images', split, im['file_name'])).convert('RGB'))
                     .transpose(2, 0, 1) for im in coco['images']])
    return imgs, coco


def box_iou_xyxy(a, b):
    """[n,4] x [m,4] -> [n,m]"""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area_a = (a[:, 2:] - a[:, :2]).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).prod(1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-12)


def nms(pred, conf_thres=0.001, iou_thres=0.6, max_det=300, max_nms=30000):
    """pred: [N, 5+nc] numpy (cx, cy, w, h, obj, cls...) for one image -> [k, 6] (x0, y0, x1, y1, score, cls)."""
    pred = pred[pred[:, 4] > conf_thres]
    if not len(pred):
        return np.zeros((0, 6), np.float32)
    box = np.concatenate((pred[:, :2] - pred[:, 2:4] / 2, pred[:, :2] + pred[:, 2:4] / 2), 1)
    scores = pred[:, 5:] * pred[:, 4:5]
    i, j = np.nonzero(scores > conf_thres)  # multi-label, as YOLOv5's val.py
    det = np.concatenate((box[i], scores[i, j][:, None], j[:, None].astype(np.float32)), 1)
    order = np.argsort(-det[:, 4], kind='stable')[:max_nms]
    det = det[order]
    shifted = det[:, :4] + det[:, 5:6] * 4096  # classes never overlap
    iou = box_iou_xyxy(shifted, shifted)
    suppressed = np.zeros(len(det), bool)
    keep = []
    for k in range(len(det)):
        if suppressed[k]:
            continue
        keep.append(k)
        if len(keep) >= max_det:
            break
        suppressed |= iou[k] > iou_thres
    return det[keep]


def coco_map(coco, dets_per_image, max_dets=100):
    """coco: ground-truth dict; dets_per_image: {image_id: [k, 6] (x0, y0, x1, y1, score, class 0-based)}.
    Category id = class + 1. Returns dict with map (IoU .5:.95), map50, map75, per-class AP."""
    iou_thrs = np.linspace(0.5, 0.95, 10)
    rec_thrs = np.linspace(0.0, 1.0, 101)
    cats = [c['id'] for c in coco['categories']]
    gts = {}
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        gts.setdefault((a['image_id'], a['category_id']), []).append([x, y, x + w, y + h])
    ap = np.full((len(iou_thrs), len(cats)), -1.0)
    for ci, cat in enumerate(cats):
        scores, matched = [], []  # matched: [T] bools per detection
        npos = 0
        for im in coco['images']:
            g = np.array(gts.get((im['id'], cat), []), np.float64).reshape(-1, 4)
            npos += len(g)
            d = dets_per_image.get(im['id'], np.zeros((0, 6)))
            d = d[d[:, 5] == cat - 1]
            d = d[np.argsort(-d[:, 4], kind='mergesort')][:max_dets]
            if not len(d):
                continue
            m = np.zeros((len(iou_thrs), len(d)), bool)
            if len(g):
                iou = box_iou_xyxy(d[:, :4].astype(np.float64), g)
                for ti, t in enumerate(iou_thrs):
                    used = np.zeros(len(g), bool)
                    for di in range(len(d)):
                        best, bi = min(t, 1 - 1e-10), -1
                        for gi in range(len(g)):
                            if used[gi] or iou[di, gi] < best:
                                continue
                            best, bi = iou[di, gi], gi
                        if bi >= 0:
                            used[bi] = True
                            m[ti, di] = True
            scores.append(d[:, 4])
            matched.append(m)
        if npos == 0:
            continue
        if not scores:
            ap[:, ci] = 0
            continue
        s = np.concatenate(scores)
        mm = np.concatenate(matched, 1)
        order = np.argsort(-s, kind='mergesort')
        mm = mm[:, order]
        for ti in range(len(iou_thrs)):
            tp = np.cumsum(mm[ti]).astype(np.float64)
            fp = np.cumsum(~mm[ti]).astype(np.float64)
            rc = tp / npos
            pr = tp / (fp + tp + np.spacing(1))
            pr = np.maximum.accumulate(pr[::-1])[::-1]  # monotone from the right
            inds = np.searchsorted(rc, rec_thrs, side='left')
            q = np.array([pr[i] if i < len(pr) else 0.0 for i in inds])
            ap[ti, ci] = q.mean()
    valid = ap[0] >= 0
    return {'map': float(ap[:, valid].mean()), 'map50': float(ap[0, valid].mean()), 'map75': float(ap[5, valid].mean()),
            'per_class': {str(c): float(ap[:, ci].mean()) for ci, c in enumerate(cats) if valid[ci]}}


@torch.no_grad()
def predict(model, imgs, batch=32):
    model.eval()
    out = []
    for i in range(0, len(imgs), batch):
        x = torch.from_numpy(imgs[i:i + batch]).float() / 255
        out.append(model(x)[0].float().numpy())
    return np.concatenate(out)


def evaluate_model(model, root='examples/shapes', split='val', cache={}):
    if (root, split) not in cache:
        cache[(root, split)] = load_images(root, split)
    imgs, coco = cache[(root, split)]
    preds = predict(model, imgs)
    dets = {im['id']: nms(p) for im, p in zip(coco['images'], preds)}
    return coco_map(coco, dets)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('weights')
    ap.add_argument('--data', default='examples/shapes')
    ap.add_argument('--split', default='val')
    ap.add_argument('--which', default='ema', choices=['ema', 'model'])
    a = ap.parse_args()
    ck = torch.load(a.weights, map_location='cpu')
    m = (ck.get(a.which) or ck['model']).float()
    print(json.dumps(evaluate_model(m, a.data, a.split)))
