#!/usr/bin/env python3
"""Reference COCO bbox evaluation in Python + numpy.

pycocotools cannot be installed on this project's machines (no PyPI, not in Debian), so this file
stands in for it: a line-by-line transcription of the algorithm of pycocotools' COCO.loadRes,
COCOeval.evaluate / computeIoU / evaluateImg / accumulate / summarize with the default 'bbox'
parameters, and of maskApi.c's bbIou. Same data flow, same numpy calls (mergesort argsort,
searchsorted, mean), same order of floating-point operations. It is independent of the TypeScript
evaluator (src/core/eval), which is tested against it.

Usage: cocoeval_ref.py GT.json DT.json [--json OUT]   prints pycocotools' 12 summary lines.
"""
import copy
import json
import sys
from collections import defaultdict

import numpy as np


# ---- parameters (Params.setDetParams) ----
IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
MAX_DETS = [1, 10, 100]
AREA_RNG = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
AREA_LBL = ['all', 'small', 'medium', 'large']


class Coco:
    """The parts of pycocotools.coco.COCO that bbox evaluation uses."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.anns, self.imgs = {}, {}
        self.img_to_anns = defaultdict(list)
        for ann in dataset.get('annotations', []):
            self.img_to_anns[ann['image_id']].append(ann)
            self.anns[ann['id']] = ann
        for img in dataset.get('images', []):
            self.imgs[img['id']] = img

    def img_ids(self):
        return list(self.imgs.keys())

    def cat_ids(self):
        return [c['id'] for c in self.dataset['categories']]

    def ann_ids(self, img_ids, cat_ids):
        lists = [self.img_to_anns[i] for i in img_ids if i in self.img_to_anns]
        anns = [a for lst in lists for a in lst]
        anns = [a for a in anns if a['category_id'] in cat_ids]
        return [a['id'] for a in anns]

    def load_anns(self, ids):
        return [self.anns[i] for i in ids]

    def load_res(self, anns):
        """COCO.loadRes for bbox results: ids 1..N in file order, area = w*h, iscrowd 0."""
        res = Coco({'images': list(self.dataset['images']), 'categories': [], 'annotations': []})
        assert isinstance(anns, list), 'results in not an array of objects'
        ann_img_ids = [a['image_id'] for a in anns]
        assert set(ann_img_ids) == (set(ann_img_ids) & set(self.img_ids())), \
            'Results do not correspond to current coco set'
        res.dataset['categories'] = copy.deepcopy(self.dataset['categories'])
        for i, ann in enumerate(anns):
            bb = ann['bbox']
            ann['area'] = bb[2] * bb[3]
            ann['id'] = i + 1
            ann['iscrowd'] = 0
        res.dataset['annotations'] = anns
        return Coco(res.dataset)


def bbox_iou(dts, gts, iscrowd):
    """maskApi.c bbIou: o[d, g]; a crowd gt divides the intersection by the detection's area."""
    m, n = len(dts), len(gts)
    if m == 0 or n == 0:
        return []
    d = np.array(dts, dtype=np.double).reshape((m, 4))
    g = np.array(gts, dtype=np.double).reshape((n, 4))
    o = np.zeros((m, n))
    for gi in range(n):
        gx, gy, gw, gh = (float(v) for v in g[gi])
        ga = gw * gh
        crowd = bool(iscrowd[gi])
        for di in range(m):
            dx, dy, dw, dh = (float(v) for v in d[di])
            da = dw * dh
            w = min(dw + dx, gw + gx) - max(dx, gx)
            if w <= 0:
                continue
            h = min(dh + dy, gh + gy) - max(dy, gy)
            if h <= 0:
                continue
            i = w * h
            u = da if crowd else da + ga - i
            o[di, gi] = i / u
    return o


class CocoEvalRef:
    def __init__(self, coco_gt, coco_dt, img_ids=None):
        self.gt, self.dt = coco_gt, coco_dt
        self.img_ids = sorted(coco_gt.img_ids()) if img_ids is None else list(img_ids)
        self.cat_ids = sorted(coco_gt.cat_ids())

    def _prepare(self):
        gts = self.gt.load_anns(self.gt.ann_ids(self.img_ids, self.cat_ids))
        dts = self.dt.load_anns(self.dt.ann_ids(self.img_ids, self.cat_ids))
        for g in gts:
            # pycocotools first reads 'ignore', then overwrites it with iscrowd: kept as is.
            g['ignore'] = g['ignore'] if 'ignore' in g else 0
            g['ignore'] = 'iscrowd' in g and g['iscrowd']
        self._gts, self._dts = defaultdict(list), defaultdict(list)
        for g in gts:
            self._gts[g['image_id'], g['category_id']].append(g)
        for d in dts:
            self._dts[d['image_id'], d['category_id']].append(d)

    def evaluate(self):
        self.img_ids = list(np.unique(self.img_ids))
        self.cat_ids = list(np.unique(self.cat_ids))
        self._prepare()
        self.ious = {(i, c): self.compute_iou(i, c) for i in self.img_ids for c in self.cat_ids}
        self.eval_imgs = [self.evaluate_img(i, c, a, MAX_DETS[-1])
                          for c in self.cat_ids for a in AREA_RNG for i in self.img_ids]

    def compute_iou(self, img, cat):
        gt, dt = self._gts[img, cat], self._dts[img, cat]
        if len(gt) == 0 and len(dt) == 0:
            return []
        order = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in order][:MAX_DETS[-1]]
        # pycocotools: int(o['iscrowd']) (a missing key is an error there; here it reads as 0)
        iscrowd = [int(g.get('iscrowd', 0)) for g in gt]
        return bbox_iou([d['bbox'] for d in dt], [g['bbox'] for g in gt], iscrowd)

    def evaluate_img(self, img, cat, a_rng, max_det):
        gt, dt = self._gts[img, cat], self._dts[img, cat]
        if len(gt) == 0 and len(dt) == 0:
            return None
        for g in gt:
            g['_ignore'] = 1 if (g['ignore'] or g['area'] < a_rng[0] or g['area'] > a_rng[1]) else 0
        gtind = np.argsort([g['_ignore'] for g in gt], kind='mergesort')
        gt = [gt[i] for i in gtind]
        dtind = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dtind[0:max_det]]
        iscrowd = [int(g.get('iscrowd', 0)) for g in gt]
        ious = self.ious[img, cat]
        ious = ious[:, gtind] if len(ious) > 0 else ious
        T, G, D = len(IOU_THRS), len(gt), len(dt)
        gtm = np.zeros((T, G))
        dtm = np.zeros((T, D))
        gt_ig = np.array([g['_ignore'] for g in gt])
        dt_ig = np.zeros((T, D))
        if len(ious) != 0:
            for ti, t in enumerate(IOU_THRS):
                for di, d in enumerate(dt):
                    best = min([t, 1 - 1e-10])
                    m = -1
                    for gi in range(G):
                        if gtm[ti, gi] > 0 and not iscrowd[gi]:
                            continue
                        if m > -1 and gt_ig[m] == 0 and gt_ig[gi] == 1:
                            break
                        if ious[di, gi] < best:
                            continue
                        best = ious[di, gi]
                        m = gi
                    if m == -1:
                        continue
                    dt_ig[ti, di] = gt_ig[m]
                    dtm[ti, di] = gt[m]['id']
                    gtm[ti, m] = d['id']
        out = np.array([d['area'] < a_rng[0] or d['area'] > a_rng[1] for d in dt]).reshape((1, D))
        dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(out, T, 0)))
        return {'dtMatches': dtm, 'dtScores': [d['score'] for d in dt], 'gtIgnore': gt_ig, 'dtIgnore': dt_ig}

    def accumulate(self):
        T, R, K, A, M = len(IOU_THRS), len(REC_THRS), len(self.cat_ids), len(AREA_RNG), len(MAX_DETS)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        I0, A0 = len(self.img_ids), len(AREA_RNG)
        for k in range(K):
            for a in range(A):
                for m, max_det in enumerate(MAX_DETS):
                    E = [self.eval_imgs[k * A0 * I0 + a * I0 + i] for i in range(I0)]
                    E = [e for e in E if e is not None]
                    if len(E) == 0:
                        continue
                    scores = np.concatenate([e['dtScores'][0:max_det] for e in E])
                    inds = np.argsort(-scores, kind='mergesort')
                    dtm = np.concatenate([e['dtMatches'][:, 0:max_det] for e in E], axis=1)[:, inds]
                    dt_ig = np.concatenate([e['dtIgnore'][:, 0:max_det] for e in E], axis=1)[:, inds]
                    gt_ig = np.concatenate([e['gtIgnore'] for e in E])
                    npig = np.count_nonzero(gt_ig == 0)
                    if npig == 0:
                        continue
                    tps = np.logical_and(dtm, np.logical_not(dt_ig))
                    fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
                    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                    for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                        tp, fp = np.array(tp), np.array(fp)
                        nd = len(tp)
                        rc = tp / npig
                        pr = tp / (fp + tp + np.spacing(1))
                        q = np.zeros((R,))
                        recall[t, k, a, m] = rc[-1] if nd else 0
                        pr, q = pr.tolist(), q.tolist()
                        for i in range(nd - 1, 0, -1):
                            if pr[i] > pr[i - 1]:
                                pr[i - 1] = pr[i]
                        idx = np.searchsorted(rc, REC_THRS, side='left')
                        try:
                            for ri, pi in enumerate(idx):
                                q[ri] = pr[pi]
                        except IndexError:
                            pass
                        precision[t, :, k, a, m] = np.array(q)
        self.precision, self.recall = precision, recall

    def _summarize(self, ap=1, iou_thr=None, area='all', max_dets=100):
        aind = [i for i, lbl in enumerate(AREA_LBL) if lbl == area]
        mind = [i for i, md in enumerate(MAX_DETS) if md == max_dets]
        if ap == 1:
            s = self.precision
            if iou_thr is not None:
                s = s[np.where(iou_thr == IOU_THRS)[0]]
            s = s[:, :, :, aind, mind]
        else:
            s = self.recall
            if iou_thr is not None:
                s = s[np.where(iou_thr == IOU_THRS)[0]]
            s = s[:, :, aind, mind]
        mean_s = -1 if len(s[s > -1]) == 0 else np.mean(s[s > -1])
        title = 'Average Precision' if ap == 1 else 'Average Recall'
        kind = '(AP)' if ap == 1 else '(AR)'
        iou_str = '{:0.2f}:{:0.2f}'.format(IOU_THRS[0], IOU_THRS[-1]) if iou_thr is None else '{:0.2f}'.format(iou_thr)
        line = ' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}'.format(
            title, kind, iou_str, area, max_dets, mean_s)
        return float(mean_s), line

    def summarize(self):
        q = [(1, None, 'all', 100), (1, .5, 'all', 100), (1, .75, 'all', 100),
             (1, None, 'small', 100), (1, None, 'medium', 100), (1, None, 'large', 100),
             (0, None, 'all', 1), (0, None, 'all', 10), (0, None, 'all', 100),
             (0, None, 'small', 100), (0, None, 'medium', 100), (0, None, 'large', 100)]
        out = [self._summarize(*x) for x in q]
        self.stats = [v for v, _ in out]
        self.lines = [line for _, line in out]

    def per_category(self):
        """AP and AP50 per category id from precision[:, :, k, area all, 100 dets] (entries > -1)."""
        res = {}
        names = {c['id']: c.get('name', str(c['id'])) for c in self.gt.dataset['categories']}
        for k, cid in enumerate(self.cat_ids):
            p = self.precision[:, :, k, 0, -1]
            p = p[p > -1]
            p50 = self.precision[0, :, k, 0, -1]
            p50 = p50[p50 > -1]
            res[int(cid)] = {'name': names[cid],
                             'ap': float(np.mean(p)) if p.size else -1.0,
                             'ap50': float(np.mean(p50)) if p50.size else -1.0}
        return res


def curves(e):
    """Precision at the 101 recall thresholds (area all, 100 dets): mean of entries > -1 over
    categories (overall) and IoU thresholds (.5:.95), -1 where there are none."""
    def mean(x):
        x = np.atleast_1d(x)
        x = x[x > -1]
        return float(np.mean(x)) if x.size else -1.0
    p = e.precision[:, :, :, 0, -1]  # [T, R, K]
    t50 = int(np.where(IOU_THRS == .5)[0][0])
    out = {'iou50': {'overall': [mean(p[t50, r, :]) for r in range(p.shape[1])], 'perCategory': {}},
           'iou50to95': {'overall': [mean(p[:, r, :]) for r in range(p.shape[1])], 'perCategory': {}}}
    for k, cid in enumerate(e.cat_ids):
        out['iou50']['perCategory'][int(cid)] = [mean(p[t50, r, k]) for r in range(p.shape[1])]
        out['iou50to95']['perCategory'][int(cid)] = [mean(p[:, r, k]) for r in range(p.shape[1])]
    return out


def evaluate(gt_dataset, results, img_ids=None):
    """Returns the evaluator after evaluate/accumulate/summarize (inputs are copied, not changed)."""
    gt = Coco(copy.deepcopy(gt_dataset))
    dt = gt.load_res(copy.deepcopy(results))
    e = CocoEvalRef(gt, dt, img_ids)
    e.evaluate()
    e.accumulate()
    e.summarize()
    return e


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    with open(argv[0]) as f:
        gt = json.load(f)
    with open(argv[1]) as f:
        res = json.load(f)
    e = evaluate(gt, res)
    print('\n'.join(e.lines))
    if len(argv) >= 4 and argv[2] == '--json':
        with open(argv[3], 'w') as f:
            json.dump({'stats': e.stats, 'perCategory': e.per_category()}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
