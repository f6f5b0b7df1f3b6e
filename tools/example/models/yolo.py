"""YOLOv5 Detect head and DetectionModel (after ultralytics/yolov5 models/yolo.py), plus the two
steps QAT needs: fuse() (BN folded into the convs, as YOLOv5's model.fuse()) and quantize()."""
import math
from copy import deepcopy

import torch
import torch.nn as nn

from models.common import C3, SPPF, Bottleneck, Concat, Conv
from models.lsq import QConv2d

# YOLOv5n v6 layout at width 0.125 with the P5 stage at 768 (96 channels) instead of 1024 to stay
# small (0.35M parameters); anchors are YOLOv5's defaults halved for 320x320 inputs (pixels).
YOLOV5_SHAPES_YAML = {
    'nc': 5, 'depth_multiple': 0.33, 'width_multiple': 0.125,
    'anchors': [[5, 6, 8, 15, 16, 11], [15, 30, 31, 22, 30, 59], [58, 45, 78, 99, 187, 163]],
    'backbone': [[-1, 1, 'Conv', [64, 6, 2, 2]], [-1, 1, 'Conv', [128, 3, 2]], [-1, 3, 'C3', [128]],
                 [-1, 1, 'Conv', [256, 3, 2]], [-1, 6, 'C3', [256]], [-1, 1, 'Conv', [512, 3, 2]],
                 [-1, 9, 'C3', [512]], [-1, 1, 'Conv', [768, 3, 2]], [-1, 3, 'C3', [768]],
                 [-1, 1, 'SPPF', [768, 5]]],
    'head': [[-1, 1, 'Conv', [512, 1, 1]], [-1, 1, 'nn.Upsample', [None, 2, 'nearest']], [[-1, 6], 1, 'Concat', [1]],
             [-1, 3, 'C3', [512, False]], [-1, 1, 'Conv', [256, 1, 1]], [-1, 1, 'nn.Upsample', [None, 2, 'nearest']],
             [[-1, 4], 1, 'Concat', [1]], [-1, 3, 'C3', [256, False]], [-1, 1, 'Conv', [256, 3, 2]],
             [[-1, 14], 1, 'Concat', [1]], [-1, 3, 'C3', [512, False]], [-1, 1, 'Conv', [512, 3, 2]],
             [[-1, 10], 1, 'Concat', [1]], [-1, 3, 'C3', [768, False]], [[17, 20, 23], 1, 'Detect', ['nc', 'anchors']]],
}
NAMES = ['circle', 'square', 'triangle', 'star', 'cross']


def make_divisible(x, divisor):
    return math.ceil(x / divisor) * divisor


class Detect(nn.Module):
    stride = None

    def __init__(self, nc=80, anchors=(), ch=(), inplace=True):
        super().__init__()
        self.nc = nc
        self.no = nc + 5
        self.nl = len(anchors)
        self.na = len(anchors[0]) // 2
        self.grid = [torch.empty(0) for _ in range(self.nl)]
        self.anchor_grid = [torch.empty(0) for _ in range(self.nl)]
        self.register_buffer('anchors', torch.tensor(anchors).float().view(self.nl, -1, 2))  # grid units after init
        self.m = nn.ModuleList(nn.Conv2d(x, self.no * self.na, 1) for x in ch)
        self.inplace = inplace

    def forward(self, x):
        z = []
        for i in range(self.nl):
            x[i] = self.m[i](x[i])
            bs, _, ny, nx = x[i].shape
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                if self.grid[i].shape[2:4] != x[i].shape[2:4]:
                    self.grid[i], self.anchor_grid[i] = self._make_grid(nx, ny, i)
                xy, wh, conf = x[i].sigmoid().split((2, 2, self.nc + 1), 4)
                xy = (xy * 2 + self.grid[i]) * self.stride[i]
                wh = (wh * 2) ** 2 * self.anchor_grid[i]
                z.append(torch.cat((xy, wh, conf), 4).view(bs, self.na * nx * ny, self.no))
        return x if self.training else (torch.cat(z, 1), x)

    def _make_grid(self, nx, ny, i):
        d, t = self.anchors[i].device, self.anchors[i].dtype
        shape = 1, self.na, ny, nx, 2
        yv, xv = torch.meshgrid(torch.arange(ny, device=d, dtype=t), torch.arange(nx, device=d, dtype=t), indexing='ij')
        grid = torch.stack((xv, yv), 2).expand(shape) - 0.5
        anchor_grid = (self.anchors[i] * self.stride[i]).view((1, self.na, 1, 1, 2)).expand(shape)
        return grid, anchor_grid


def parse_model(d, ch):
    anchors, nc, gd, gw = d['anchors'], d['nc'], d['depth_multiple'], d['width_multiple']
    na = len(anchors[0]) // 2
    layers, save, c2 = [], [], ch[-1]
    for i, (f, n, m, args) in enumerate(d['backbone'] + d['head']):
        mname = m
        m = {'Conv': Conv, 'C3': C3, 'SPPF': SPPF, 'Concat': Concat, 'Detect': Detect,
             'nn.Upsample': nn.Upsample, 'Bottleneck': Bottleneck}[m]
        args = [d[a] if a in ('nc', 'anchors') else a for a in args]
        n = n_ = max(round(n * gd), 1) if n > 1 else n
        if m in (Conv, C3, SPPF, Bottleneck):
            c1, c2 = ch[f], args[0]
            if c2 != nc + 5:
                c2 = make_divisible(c2 * gw, 8)
            args = [c1, c2, *args[1:]]
            if m is C3:
                args.insert(2, n)
                n = 1
        elif m is Concat:
            c2 = sum(ch[x] for x in f)
        elif m is Detect:
            args.append([ch[x] for x in f])
        else:
            c2 = ch[f]
        m_ = nn.Sequential(*(m(*args) for _ in range(n))) if n > 1 else m(*args)
        m_.i, m_.f, m_.type, m_.np = i, f, 'models.yolo.Detect' if m is Detect else (
            'models.common.' + mname if not mname.startswith('nn.') else 'torch.nn.modules.upsampling.Upsample'), \
            sum(x.numel() for x in m_.parameters())
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m_)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)


class DetectionModel(nn.Module):
    def __init__(self, cfg=None, ch=3, nc=None):
        super().__init__()
        self.yaml = deepcopy(cfg or YOLOV5_SHAPES_YAML)
        if nc:
            self.yaml['nc'] = nc
        self.model, self.save = parse_model(deepcopy(self.yaml), ch=[ch])
        self.names = [str(i) for i in range(self.yaml['nc'])]
        self.inplace = True
        m = self.model[-1]
        s = 256
        m.inplace = True
        m.stride = torch.tensor([s / x.shape[-2] for x in self.forward(torch.zeros(1, ch, s, s))])
        m.anchors /= m.stride.view(-1, 1, 1)
        self.stride = m.stride
        self._initialize_biases()

    def forward(self, x):
        y = []
        for m in self.model:
            if m.f != -1:
                x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
            x = m(x)
            y.append(x if m.i in self.save else None)
        return x

    def _initialize_biases(self, imgsz=320):
        m = self.model[-1]
        for mi, s in zip(m.m, m.stride):
            b = mi.bias.view(m.na, -1)
            b.data[:, 4] += math.log(8 / (imgsz / s) ** 2)
            b.data[:, 5:5 + m.nc] += math.log(0.6 / (m.nc - 0.99999))
            mi.bias = torch.nn.Parameter(b.view(-1), requires_grad=True)

    def fuse(self):
        """Fold every BatchNorm into its conv (conv gets a bias, bn is deleted), as YOLOv5's fuse()."""
        for m in self.model.modules():
            if isinstance(m, Conv) and hasattr(m, 'bn'):
                m.conv = fuse_conv_and_bn(m.conv, m.bn)
                delattr(m, 'bn')
        return self

    def quantize(self, bits):
        """Replace every conv by a QConv2d (call after fuse()). The stem conv and the Detect convs
        are 8-bit (weights and inputs); all others use `bits` for weights and inputs."""
        convs = [m for m in self.model.modules() if isinstance(m, Conv)]
        for m in convs:
            first = m is self.model[0]
            m.conv = QConv2d.from_conv(m.conv, 8 if first else bits, 8 if first else bits, 0 if first else 1)
        d = self.model[-1]
        for i, c in enumerate(d.m):
            d.m[i] = QConv2d.from_conv(c, 8, 8, 8)
        return self


def fuse_conv_and_bn(conv, bn):
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, kernel_size=conv.kernel_size, stride=conv.stride,
                      padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                      bias=True).requires_grad_(False).to(conv.weight.device)
    w_conv = conv.weight.clone().view(conv.out_channels, -1)
    w_bn = torch.diag(bn.weight.div(torch.sqrt(bn.eps + bn.running_var)))
    fused.weight.copy_(torch.mm(w_bn, w_conv).view(fused.weight.shape))
    b_conv = torch.zeros(conv.weight.size(0), device=conv.weight.device) if conv.bias is None else conv.bias
    b_bn = bn.bias - bn.weight.mul(bn.running_mean).div(torch.sqrt(bn.running_var + bn.eps))
    fused.bias.copy_(torch.mm(w_bn, b_conv.reshape(-1, 1)).reshape(-1) + b_bn)
    return fused.requires_grad_(True)


Model = DetectionModel
