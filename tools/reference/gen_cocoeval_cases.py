#!/usr/bin/env python3
"""Writes the COCO evaluation test cases of test/fixtures/cocoeval/: ground truth, detections and
what the reference (cocoeval_ref.py, a transcription of pycocotools) computes for them.

Random cases and adversarial ones: crowd regions, score ties (within and across images, and at the
100-detection cut), areas exactly at 32^2 and 96^2 (for gt the annotation's `area`, for
detections w*h), IoU exactly at thresholds, > 100 detections per image, categories without
ground truth, images without detections, detections on images without ground truth, duplicates,
pycocotools' quirks (`ignore` overwritten by iscrowd, a gt with id 0 counts as unmatched).

Run: python3 tools/reference/gen_cocoeval_cases.py   (deterministic; seeded)
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cocoeval_ref as ref  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'cocoeval')


def r2(x):
    return float(round(float(x), 2))


def rand_case(rng, n_img, n_cat, gt_per_img, fp_per_img, crowd_p=0.0, score_levels=None,
              empty_cats=0, img_without_gt=0, jitter=0.15, drop_p=0.2, size=(4, 220)):
    """Random boxes; detections are jittered gt boxes (some dropped) plus random false positives."""
    images = [{'id': int(i), 'width': 640, 'height': 480, 'file_name': f'{i}.jpg'}
              for i in rng.permutation(np.arange(1, n_img + 1)) * 3]
    cats = [{'id': int(c), 'name': f'c{c}'} for c in rng.permutation(np.arange(1, n_cat + empty_cats + 1)) * 2]
    gt_cats = [c['id'] for c in cats[:n_cat]]
    anns, dets = [], []
    aid = 1
    for im in images[img_without_gt:]:
        for _ in range(rng.integers(0, gt_per_img + 1)):
            w, h = r2(rng.uniform(*size)), r2(rng.uniform(*size))
            x, y = r2(rng.uniform(0, 640 - w)), r2(rng.uniform(0, 480 - h))
            crowd = int(rng.random() < crowd_p)
            # annotation area: mostly w*h, sometimes a smaller "segmentation" area as in COCO
            area = r2(w * h * (1 if rng.random() < 0.7 else rng.uniform(0.4, 1.0)))
            cat = int(rng.choice(gt_cats))
            anns.append({'id': aid, 'image_id': im['id'], 'category_id': cat, 'bbox': [x, y, w, h],
                         'area': area, 'iscrowd': crowd})
            aid += 1
            for _ in range(rng.integers(0, 3)):
                if rng.random() < drop_p:
                    continue
                jx, jy = rng.normal(0, jitter * w), rng.normal(0, jitter * h)
                jw, jh = w * rng.uniform(1 - jitter, 1 + jitter), h * rng.uniform(1 - jitter, 1 + jitter)
                c = cat if rng.random() < 0.9 else int(rng.choice([c['id'] for c in cats]))
                dets.append({'image_id': im['id'], 'category_id': c,
                             'bbox': [r2(x + jx), r2(y + jy), r2(jw), r2(jh)], 'score': 0.0})
    for im in images:
        for _ in range(rng.integers(0, fp_per_img + 1)):
            w, h = r2(rng.uniform(*size)), r2(rng.uniform(*size))
            dets.append({'image_id': im['id'], 'category_id': int(rng.choice([c['id'] for c in cats])),
                         'bbox': [r2(rng.uniform(0, 600)), r2(rng.uniform(0, 440)), w, h], 'score': 0.0})
    order = rng.permutation(len(dets))
    dets = [dets[i] for i in order]
    for d in dets:
        d['score'] = float(rng.choice(score_levels)) if score_levels is not None else float(round(rng.random(), 4))
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def box_case_many_dets(rng):
    """150-260 detections per image and category, many tied scores around the 100 cut."""
    images = [{'id': i} for i in (1, 2, 3)]
    cats = [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}]
    anns, dets = [], []
    aid = 1
    for im in images:
        for _ in range(30):
            x, y, w, h = [r2(v) for v in (rng.uniform(0, 500), rng.uniform(0, 400), rng.uniform(5, 120), rng.uniform(5, 120))]
            anns.append({'id': aid, 'image_id': im['id'], 'category_id': int(rng.integers(1, 3)), 'bbox': [x, y, w, h],
                         'area': r2(w * h), 'iscrowd': 0})
            aid += 1
        for _ in range(int(rng.integers(150, 260))):
            a = anns[int(rng.integers(0, len(anns)))]
            x, y, w, h = a['bbox']
            dets.append({'image_id': im['id'], 'category_id': int(rng.integers(1, 3)),
                         'bbox': [r2(x + rng.normal(0, 6)), r2(y + rng.normal(0, 6)), r2(w * rng.uniform(.8, 1.2)), r2(h * rng.uniform(.8, 1.2))],
                         'score': float(rng.choice([0.1, 0.2, 0.3, 0.5, 0.9]))})
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def adversarial_boundaries():
    """Areas exactly at 32^2 / 96^2 and IoUs exactly at .5 / .75 / .95 / 1."""
    images = [{'id': 1}, {'id': 2}, {'id': 5}]
    cats = [{'id': 3, 'name': 'x'}, {'id': 1, 'name': 'y'}]
    anns = [
        # gt area field exactly at the boundaries (bbox says otherwise: the field counts)
        {'id': 1, 'image_id': 1, 'category_id': 3, 'bbox': [0, 0, 40, 40], 'area': 1024, 'iscrowd': 0},
        {'id': 2, 'image_id': 1, 'category_id': 3, 'bbox': [100, 0, 96, 96], 'area': 9216, 'iscrowd': 0},
        {'id': 3, 'image_id': 1, 'category_id': 3, 'bbox': [300, 0, 32, 32], 'area': 1024.0001, 'iscrowd': 0},
        {'id': 4, 'image_id': 1, 'category_id': 3, 'bbox': [400, 0, 96, 96], 'area': 9215.9999, 'iscrowd': 0},
        {'id': 5, 'image_id': 2, 'category_id': 1, 'bbox': [0, 0, 10, 10], 'area': 100, 'iscrowd': 0},
        {'id': 6, 'image_id': 2, 'category_id': 1, 'bbox': [50, 50, 20, 20], 'area': 400, 'iscrowd': 0},
        {'id': 7, 'image_id': 5, 'category_id': 1, 'bbox': [0, 0, 100, 100], 'area': 10000, 'iscrowd': 0},
        {'id': 8, 'image_id': 5, 'category_id': 1, 'bbox': [200, 200, 8, 8], 'area': 64, 'iscrowd': 0},
    ]
    dets = [
        {'image_id': 1, 'category_id': 3, 'bbox': [0, 0, 32, 32], 'score': .9},       # area 1024, IoU .64
        {'image_id': 1, 'category_id': 3, 'bbox': [100, 0, 96, 96], 'score': .8},     # exact
        {'image_id': 1, 'category_id': 3, 'bbox': [300, 0, 32, 32.0001], 'score': .7},
        {'image_id': 1, 'category_id': 3, 'bbox': [400, 0, 96, 95.99999], 'score': .6},
        {'image_id': 1, 'category_id': 3, 'bbox': [600, 0, 96, 96], 'score': .95},    # FP, area 9216
        {'image_id': 1, 'category_id': 3, 'bbox': [700, 0, 32, 32], 'score': .5},     # FP, area 1024
        {'image_id': 2, 'category_id': 1, 'bbox': [0, 0, 10, 5], 'score': .9},        # IoU exactly .5
        {'image_id': 2, 'category_id': 1, 'bbox': [50, 50, 20, 15], 'score': .9},     # IoU exactly .75
        {'image_id': 5, 'category_id': 1, 'bbox': [0, 0, 100, 95], 'score': .4},      # IoU exactly .95
        {'image_id': 5, 'category_id': 1, 'bbox': [0, 0, 100, 100], 'score': .4},     # IoU 1, tie
        {'image_id': 5, 'category_id': 1, 'bbox': [200, 200, 8, 8], 'score': .4},     # IoU 1
        {'image_id': 5, 'category_id': 1, 'bbox': [200, 200, 8, 7.6], 'score': .3},   # IoU .95
    ]
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def adversarial_crowd():
    """Crowd regions swallowing many detections; crowd and regular gt overlapping; ignore order."""
    images = [{'id': 10}, {'id': 11}]
    cats = [{'id': 1, 'name': 'person'}, {'id': 2, 'name': 'crowdonly'}]
    anns = [
        {'id': 1, 'image_id': 10, 'category_id': 1, 'bbox': [0, 0, 200, 200], 'area': 40000, 'iscrowd': 1},
        {'id': 2, 'image_id': 10, 'category_id': 1, 'bbox': [10, 10, 50, 50], 'area': 2500, 'iscrowd': 0},
        {'id': 3, 'image_id': 10, 'category_id': 1, 'bbox': [100, 100, 60, 60], 'area': 3600, 'iscrowd': 0},
        {'id': 4, 'image_id': 10, 'category_id': 1, 'bbox': [300, 300, 20, 20], 'area': 400, 'iscrowd': 0, 'ignore': 1},
        {'id': 5, 'image_id': 11, 'category_id': 2, 'bbox': [0, 0, 100, 100], 'area': 10000, 'iscrowd': 1},
        {'id': 6, 'image_id': 11, 'category_id': 1, 'bbox': [0, 0, 30, 30], 'area': 900, 'iscrowd': 0},
        {'id': 7, 'image_id': 11, 'category_id': 1, 'bbox': [0, 0, 300, 300], 'area': 90000, 'iscrowd': 1},
    ]
    dets = [
        {'image_id': 10, 'category_id': 1, 'bbox': [12, 12, 50, 50], 'score': .9},
        {'image_id': 10, 'category_id': 1, 'bbox': [10, 10, 50, 50], 'score': .85},   # duplicate of gt 2: FP or crowd
        {'image_id': 10, 'category_id': 1, 'bbox': [20, 20, 30, 30], 'score': .8},    # inside crowd
        {'image_id': 10, 'category_id': 1, 'bbox': [150, 150, 40, 40], 'score': .75},
        {'image_id': 10, 'category_id': 1, 'bbox': [100, 100, 60, 60], 'score': .7},
        {'image_id': 10, 'category_id': 1, 'bbox': [300, 300, 20, 20], 'score': .65},  # 'ignore': 1 has no effect
        {'image_id': 10, 'category_id': 1, 'bbox': [250, 250, 5, 5], 'score': .6},
        {'image_id': 11, 'category_id': 2, 'bbox': [10, 10, 20, 20], 'score': .9},     # only crowd gt: -1
        {'image_id': 11, 'category_id': 1, 'bbox': [0, 0, 30, 30], 'score': .2},
        {'image_id': 11, 'category_id': 1, 'bbox': [1, 1, 30, 30], 'score': .5},
        {'image_id': 11, 'category_id': 1, 'bbox': [150, 150, 30, 30], 'score': .5},
    ]
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def adversarial_misc():
    """Categories without gt (with and without detections), images without detections, detections
    on images without gt, duplicated detections and gts, a gt with id 0, zero/negative sizes."""
    images = [{'id': i} for i in (1, 2, 3, 4, 7)]
    cats = [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}, {'id': 5, 'name': 'nogt'}, {'id': 9, 'name': 'nothing'}]
    anns = [
        {'id': 0, 'image_id': 1, 'category_id': 1, 'bbox': [0, 0, 50, 50], 'area': 2500, 'iscrowd': 0},
        {'id': 11, 'image_id': 1, 'category_id': 1, 'bbox': [100, 0, 50, 50], 'area': 2500, 'iscrowd': 0},
        {'id': 12, 'image_id': 1, 'category_id': 1, 'bbox': [100, 0, 50, 50], 'area': 2500, 'iscrowd': 0},
        {'id': 13, 'image_id': 2, 'category_id': 2, 'bbox': [0, 0, 20, 20], 'area': 400, 'iscrowd': 0},
        {'id': 14, 'image_id': 3, 'category_id': 2, 'bbox': [0, 0, 200, 100], 'area': 20000, 'iscrowd': 0},
        {'id': 15, 'image_id': 3, 'category_id': 1, 'bbox': [5, 5, 0, 10], 'area': 0, 'iscrowd': 0},
        {'id': 16, 'image_id': 99, 'category_id': 1, 'bbox': [0, 0, 10, 10], 'area': 100, 'iscrowd': 0},  # unknown image
        {'id': 17, 'image_id': 2, 'category_id': 42, 'bbox': [0, 0, 10, 10], 'area': 100, 'iscrowd': 0},  # unknown category
    ]
    dets = [
        {'image_id': 1, 'category_id': 1, 'bbox': [0, 0, 50, 50], 'score': .9},       # matches gt id 0: counted FP
        {'image_id': 1, 'category_id': 1, 'bbox': [100, 0, 50, 50], 'score': .8},
        {'image_id': 1, 'category_id': 1, 'bbox': [100, 0, 50, 50], 'score': .8},     # duplicate
        {'image_id': 1, 'category_id': 1, 'bbox': [100, 0, 50, 50], 'score': .8},     # triplicate
        {'image_id': 4, 'category_id': 1, 'bbox': [0, 0, 50, 50], 'score': .95},      # image without gt
        {'image_id': 4, 'category_id': 5, 'bbox': [0, 0, 50, 50], 'score': .5},       # category without gt
        {'image_id': 3, 'category_id': 2, 'bbox': [0, 0, 200, 100], 'score': .1},
        {'image_id': 3, 'category_id': 1, 'bbox': [5, 5, 0, 10], 'score': .7},        # zero area
        {'image_id': 3, 'category_id': 1, 'bbox': [5, 5, -4, 10], 'score': .6},       # negative width
        {'image_id': 7, 'category_id': 77, 'bbox': [0, 0, 5, 5], 'score': .6},        # unknown category
    ]
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def expected(gt, dets, img_ids=None):
    e = ref.evaluate(gt, dets, img_ids)
    return {'stats': e.stats, 'lines': e.lines, 'perCategory': e.per_category(), 'curves': ref.curves(e)}


def write(name, gt, dets, img_ids=None, note=''):
    case = {'note': note, 'numpy': np.__version__, 'gt': gt, 'dt': dets}
    if img_ids is not None:
        case['imgIds'] = img_ids
    case['expected'] = expected(gt, dets, img_ids)
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(case, f, separators=(',', ':'))
    print(name, len(gt['annotations']), 'gt', len(dets), 'dt', 'AP=%.4f' % case['expected']['stats'][0])


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261126)
    write('random-small', *rand_case(rng, 6, 3, 5, 3), note='random boxes, 3 categories')
    write('random-medium', *rand_case(rng, 40, 6, 8, 6, crowd_p=0.05, empty_cats=1, img_without_gt=3),
          note='random, crowd 5%, a category without gt, images without gt')
    write('random-ties', *rand_case(rng, 20, 4, 6, 5, score_levels=[0.25, 0.5, 0.75, 1.0]),
          note='scores from 4 levels: ties within and across images')
    write('random-crowd', *rand_case(rng, 15, 3, 6, 4, crowd_p=0.3, size=(10, 300)), note='30% crowd regions')
    write('random-sizes', *rand_case(rng, 20, 3, 8, 4, size=(1, 140), jitter=0.3),
          note='many small and medium objects around the 32^2 / 96^2 boundaries')
    gt, dets = rand_case(rng, 12, 3, 6, 4)
    write('random-imgids', gt, dets, img_ids=[im['id'] for im in gt['images'][::2]] + [12345],
          note='params.imgIds: a subset (and an id that is not an image)')
    write('many-dets', *box_case_many_dets(rng), note='> 100 detections per image and category, tied scores at the cut')
    write('boundaries', *adversarial_boundaries(), note='areas at 32^2 and 96^2, IoUs exactly at thresholds')
    write('crowd', *adversarial_crowd(), note='crowd regions, ignore field, crowd-only category')
    write('misc', *adversarial_misc(), note='categories/images without gt or detections, duplicates, gt id 0, zero sizes')
    gt, _ = rand_case(rng, 5, 2, 4, 0)
    write('no-dets', gt, [], note='an empty results list (pycocotools itself raises IndexError on it)')


if __name__ == '__main__':
    main()
