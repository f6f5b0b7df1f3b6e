"""Rebuild PyTorch modules from the plain arrays train.py writes (any torch version)."""
import json

import numpy as np
import torch

from models.yolo import NAMES, DetectionModel


def load_run(path):
    z = np.load(path)
    return z, json.loads(str(z['meta']))


def build(z, meta, epoch, which):
    """which: 'model' or 'ema'. Float runs give the unfused model; QAT runs the fused, quantized one."""
    model = DetectionModel()
    model.names = list(NAMES)
    if meta['mode'] == 'qat':
        model.fuse().quantize(meta['bits'])
    prefix = f'e{epoch}/{which}/'
    sd = {k[len(prefix):]: torch.from_numpy(np.array(z[k])) for k in z.files if k.startswith(prefix)}
    res = model.load_state_dict(sd, strict=False)
    bad = [k for k in res.missing_keys if not k.endswith('num_batches_tracked')] + list(res.unexpected_keys)
    assert not bad, f'{prefix}: state mismatch {bad[:5]}'
    return model.eval()
