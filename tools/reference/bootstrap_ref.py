#!/usr/bin/env python3
"""Reference for the paired bootstrap of mAP differences (src/core/eval/bootstrap.ts), built on
the line-by-line COCOeval transcription cocoeval_ref.py.

A resample draws the evaluation images with replacement; each model's evalImgs list is rebuilt
with every image as often as it was drawn (ascending image order, copies adjacent) and run through
COCOeval's own accumulate() and summarize(): per-image matches are reused, nothing is re-matched.
The interval is numpy.percentile(..., [2.5, 97.5]) of the resampled differences.

The draws come from Rng, a transcription of src/core/rng.ts (xoshiro128** seeded by splitmix32
mixing), so the TypeScript code and this script draw the same images.
"""
import copy
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cocoeval_ref as ref  # noqa: E402

MASK = 0xFFFFFFFF


def _mix32(z):
    z &= MASK
    z = ((z ^ (z >> 16)) * 0x21f0aaad) & MASK
    z = ((z ^ (z >> 15)) * 0x735a2d97) & MASK
    return z ^ (z >> 15)


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & MASK


class Rng:
    def __init__(self, *words):
        x = 0
        for w in words:
            x = _mix32((x ^ (w & MASK)) + 0x9e3779b9)
        s = []
        for _ in range(4):
            x = (x + 0x9e3779b9) & MASK
            s.append(_mix32(x))
        if not any(s):
            s[0] = 1
        self.s = s

    def u32(self):
        s0, s1, s2, s3 = self.s
        r = (_rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 9) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return r

    def int(self, n):
        return (self.u32() * n) >> 32


def resample_counts(n_images, resamples, seed):
    rng = Rng(seed)
    out = []
    for _ in range(resamples):
        w = [0] * n_images
        for _ in range(n_images):
            w[rng.int(n_images)] += 1
        out.append(w)
    return out


def resampled_stats(e, counts):
    """(mAP@.5:.95, mAP@.5) of an evaluated CocoEvalRef on the images drawn `counts` times each."""
    I0, A0, K = len(e.img_ids), len(ref.AREA_RNG), len(e.cat_ids)
    chosen = [i for i in range(I0) for _ in range(counts[i])]
    r = copy.copy(e)
    r.img_ids = [e.img_ids[i] for i in chosen]
    r.eval_imgs = [e.eval_imgs[k * A0 * I0 + a * I0 + i] for k in range(K) for a in range(A0) for i in chosen]
    r.accumulate()
    r.summarize()
    return r.stats[0], r.stats[1]


def paired(gt, dets_by_model, resamples, seed):
    """Per model: arrays of resampled mAP and mAP50; plus the counts drawn."""
    evs = [ref.evaluate(gt, d) for d in dets_by_model]
    counts = resample_counts(len(evs[0].img_ids), resamples, seed)
    out = []
    for e in evs:
        s = np.array([resampled_stats(e, c) for c in counts])
        out.append({'full': [float(e.stats[0]), float(e.stats[1])], 'map': s[:, 0], 'map50': s[:, 1]})
    return out, counts


def interval(values):
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return [float(x) for x in np.percentile(v, [2.5, 97.5])]
