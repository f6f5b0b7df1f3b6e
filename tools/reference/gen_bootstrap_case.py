#!/usr/bin/env python3
"""Writes test/fixtures/bootstrap/paired.json: a seeded COCO case with three detectors of the
same ground truth (a weak one, a better one and a float-like best one), score ties within and
across images, crowd regions, and what bootstrap_ref.py computes for them: every resample's mAPs,
the intervals of the differences and of the share of the gap, and the first draws of the Rng.

Run: python3 tools/reference/gen_bootstrap_case.py   (deterministic)
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootstrap_ref as bref  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'bootstrap')
RESAMPLES = 60
SEED = 7


def r2(x):
    return float(round(float(x), 2))


def make_gt(rng, n_img=30, n_cat=3):
    images = [{'id': int(i) * 2 + 1} for i in rng.permutation(n_img)]
    cats = [{'id': c, 'name': f'c{c}'} for c in (4, 1, 2)][:n_cat]
    anns = []
    for im in images:
        for _ in range(int(rng.integers(0, 7))):
            w, h = r2(rng.uniform(6, 200)), r2(rng.uniform(6, 200))
            anns.append({'id': len(anns) + 1, 'image_id': im['id'], 'category_id': int(rng.choice([c['id'] for c in cats])),
                         'bbox': [r2(rng.uniform(0, 640 - w)), r2(rng.uniform(0, 480 - h)), w, h],
                         'area': r2(w * h), 'iscrowd': int(rng.random() < 0.05)})
    return {'images': images, 'annotations': anns, 'categories': cats}


def make_dets(rng, gt, jitter, miss, fp_per_img, levels):
    dets = []
    cats = [c['id'] for c in gt['categories']]
    for a in gt['annotations']:
        if rng.random() < miss:
            continue
        x, y, w, h = a['bbox']
        dets.append({'image_id': a['image_id'], 'category_id': a['category_id'] if rng.random() < 0.92 else int(rng.choice(cats)),
                     'bbox': [r2(x + rng.normal(0, jitter * w)), r2(y + rng.normal(0, jitter * h)),
                              r2(w * rng.uniform(1 - jitter, 1 + jitter)), r2(h * rng.uniform(1 - jitter, 1 + jitter))],
                     'score': float(rng.choice(levels[2:]))})
    for im in gt['images']:
        for _ in range(int(rng.integers(0, fp_per_img + 1))):
            w, h = r2(rng.uniform(6, 150)), r2(rng.uniform(6, 150))
            dets.append({'image_id': im['id'], 'category_id': int(rng.choice(cats)),
                         'bbox': [r2(rng.uniform(0, 600)), r2(rng.uniform(0, 440)), w, h], 'score': float(rng.choice(levels[:4]))})
    return [dets[i] for i in rng.permutation(len(dets))]


def main():
    rng = np.random.default_rng(20261203)
    gt = make_gt(rng)
    levels = [0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9]  # few levels: many score ties
    models = {
        'qat': make_dets(rng, gt, jitter=0.22, miss=0.3, fp_per_img=4, levels=levels),
        'qc': make_dets(rng, gt, jitter=0.12, miss=0.15, fp_per_img=3, levels=levels),
        'float': make_dets(rng, gt, jitter=0.05, miss=0.05, fp_per_img=2, levels=levels),
    }
    names = list(models)
    res, counts = bref.paired(gt, [models[n] for n in names], RESAMPLES, SEED)
    by = dict(zip(names, res))
    q, c, f = by['qat'], by['qc'], by['float']
    share = (c['map'] - q['map']) / (f['map'] - q['map'])
    share50 = (c['map50'] - q['map50']) / (f['map50'] - q['map50'])
    rng_check = bref.Rng(20261126, 2, 7)
    out = {
        'note': 'paired bootstrap reference (tools/reference/bootstrap_ref.py on cocoeval_ref.py); numpy ' + np.__version__,
        'gt': gt, 'dets': models, 'resamples': RESAMPLES, 'seed': SEED,
        'rng': {'words': [20261126, 2, 7], 'u32': [rng_check.u32() for _ in range(8)]},
        'firstCounts': counts[0],
        'expected': {
            **{n: {'full': by[n]['full'], 'map': by[n]['map'].tolist(), 'map50': by[n]['map50'].tolist()} for n in names},
            'qcMinusQat': {'map': bref.interval(c['map'] - q['map']), 'map50': bref.interval(c['map50'] - q['map50'])},
            'floatMinusQat': {'map': bref.interval(f['map'] - q['map']), 'map50': bref.interval(f['map50'] - q['map50'])},
            'gapShare': {'map': bref.interval(share), 'map50': bref.interval(share50)},
        },
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'paired.json'), 'w') as fh:
        json.dump(out, fh, separators=(',', ':'))
    print('qc - qat', out['expected']['qcMinusQat'], 'float - qat', out['expected']['floatMinusQat'], 'share', out['expected']['gapShare'])
    print({n: by[n]['full'] for n in names})


if __name__ == '__main__':
    main()
