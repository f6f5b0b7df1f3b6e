"""ONNX (opset 13) export of the shapes detector, written node by node with onnx.helper (torch 1.13's
exporter refuses fake-quant ranges narrower than 8 bits).

mode 'float':  plain Conv weights (BN folded), as YOLOv5's export.
mode 'qdq':    each quantized conv's weight is an int8 initializer `<conv>.weight_int` feeding
               DequantizeLinear(scale = `<conv>.weight_quantizer.s`, zero point int8 0); integer range
               implicit (-8..7 at 4 bits, -4..3 at 3 bits, -128..127 at 8 bits).
mode 'latent': the float latent weight `<conv>.weight` -> QuantizeLinear -> Clip(qmin, qmax) (int8)
               -> DequantizeLinear, so tools can read the latent weights; same integers as 'qdq'.
Quantized modes put QuantizeLinear(uint8, zero point z) -> Clip(0, 2^b - 1) -> DequantizeLinear on every
conv input (scale `<conv>.input_quantizer.s`). Each Conv node is named after its module path
(e.g. model.2.cv1.conv) so ONNX nodes map 1:1 onto state_dict keys.

Output `output0` [batch, N, 5 + nc]: cx, cy, w, h in input pixels, objectness and class scores after
sigmoid (YOLOv5's decode). Input `images` [batch, 3, 320, 320], RGB 0..1.
"""
import json

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from models.common import C3, SPPF, Bottleneck, Concat, Conv
from models.lsq import QConv2d
from models.yolo import Detect


def integer_weights(w, s, qmin, qmax):
    """ONNX QuantizeLinear on float32: w / s, round half to even, clamp."""
    w = np.asarray(w, np.float32)
    return np.clip(np.round(w / np.float32(s)), qmin, qmax).astype(np.int8)


class _Graph:
    def __init__(self, mode):
        self.mode = mode
        self.nodes, self.inits = [], []
        self.n = 0

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op, inputs, name=None, n_out=1, **attrs):
        self.n += 1
        name = name or f'{op}_{self.n}'
        outs = [f'{name}:{k}' if n_out > 1 else f'{name}:out' for k in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs if n_out > 1 else outs[0]

    def conv(self, path, conv, x, act):
        w = conv.weight.detach().float().numpy()
        b = conv.bias.detach().float().numpy() if conv.bias is not None else np.zeros(w.shape[0], np.float32)
        if isinstance(conv, QConv2d) and self.mode != 'float':
            iq, wq = conv.input_quantizer, conv.weight_quantizer
            s = self.const(f'{path}.input_quantizer.s', np.float32(iq.s.item()))
            z = self.const(f'{path}.input_quantizer.zero_point', np.uint8(iq.zero_point))
            lo = self.const(f'{path}.input_quantizer.qmin', np.uint8(0))
            hi = self.const(f'{path}.input_quantizer.qmax', np.uint8(2 ** iq.bits - 1))
            q = self.node('QuantizeLinear', [x, s, z], name=f'{path}.input_quantizer.quantize')
            q = self.node('Clip', [q, lo, hi], name=f'{path}.input_quantizer.clip')
            x = self.node('DequantizeLinear', [q, s, z], name=f'{path}.input_quantizer.dequantize')
            ws = self.const(f'{path}.weight_quantizer.s', np.float32(wq.s.item()))
            wz = self.const(f'{path}.weight_quantizer.zero_point', np.int8(0))
            if self.mode == 'qdq':
                wi = self.const(f'{path}.weight_int', integer_weights(w, wq.s.item(), wq.qmin, wq.qmax))
            else:
                wl = self.const(f'{path}.weight', w)
                wi = self.node('QuantizeLinear', [wl, ws, wz], name=f'{path}.weight_quantizer.quantize')
                wlo = self.const(f'{path}.weight_quantizer.qmin', np.int8(wq.qmin))
                whi = self.const(f'{path}.weight_quantizer.qmax', np.int8(wq.qmax))
                wi = self.node('Clip', [wi, wlo, whi], name=f'{path}.weight_quantizer.clip')
            wt = self.node('DequantizeLinear', [wi, ws, wz], name=f'{path}.weight_quantizer.dequantize')
        else:
            wt = self.const(f'{path}.weight', w)
        bt = self.const(f'{path}.bias', b)
        k = list(conv.kernel_size)
        p = list(conv.padding)
        y = self.node('Conv', [x, wt, bt], name=path, kernel_shape=k, strides=list(conv.stride),
                      pads=p + p, dilations=list(conv.dilation), group=conv.groups)
        if act:
            y = self.node('Mul', [y, self.node('Sigmoid', [y], name=f'{path}.act.sigmoid')], name=f'{path}.act.mul')
        return y

    def module(self, path, m, x):
        if isinstance(m, Conv):
            return self.conv(f'{path}.conv', m.conv, x, not isinstance(m.act, torch.nn.Identity))
        if isinstance(m, Bottleneck):
            y = self.module(f'{path}.cv2', m.cv2, self.module(f'{path}.cv1', m.cv1, x))
            return self.node('Add', [x, y], name=f'{path}.add') if m.add else y
        if isinstance(m, C3):
            y = self.module(f'{path}.cv1', m.cv1, x)
            for k, b in enumerate(m.m):
                y = self.module(f'{path}.m.{k}', b, y)
            y2 = self.module(f'{path}.cv2', m.cv2, x)
            return self.module(f'{path}.cv3', m.cv3, self.node('Concat', [y, y2], name=f'{path}.cat', axis=1))
        if isinstance(m, SPPF):
            x = self.module(f'{path}.cv1', m.cv1, x)
            ys = [x]
            for k in range(3):
                ys.append(self.node('MaxPool', [ys[-1]], name=f'{path}.m.{k}', kernel_shape=[m.m.kernel_size] * 2,
                                    strides=[1, 1], pads=[m.m.padding] * 4))
            return self.module(f'{path}.cv2', m.cv2, self.node('Concat', ys, name=f'{path}.cat', axis=1))
        if isinstance(m, torch.nn.Upsample):
            sc = self.const(f'{path}.scales', np.array([1, 1, m.scale_factor, m.scale_factor], np.float32))
            return self.node('Resize', [x, '', sc], name=path, mode='nearest',
                             coordinate_transformation_mode='asymmetric', nearest_mode='floor')
        if isinstance(m, Concat):
            return self.node('Concat', x, name=path, axis=m.d)
        raise TypeError(f'cannot export {type(m).__name__} at {path}')

    def detect(self, path, d, xs, imgsz):
        outs = []
        for i, x in enumerate(xs):
            ny, nx = imgsz // int(d.stride[i]), imgsz // int(d.stride[i])
            y = self.conv(f'{path}.m.{i}', d.m[i], x, act=False)
            shp = self.const(f'{path}.{i}.shape5', np.array([-1, d.na, d.no, ny, nx], np.int64))
            y = self.node('Reshape', [y, shp], name=f'{path}.{i}.reshape')
            y = self.node('Transpose', [y], name=f'{path}.{i}.transpose', perm=[0, 1, 3, 4, 2])
            y = self.node('Sigmoid', [y], name=f'{path}.{i}.sigmoid')
            split = self.const(f'{path}.{i}.split', np.array([2, 2, d.nc + 1], np.int64))
            xy, wh, conf = self.node('Split', [y, split], name=f'{path}.{i}.split_xywh', n_out=3, axis=4)
            yv, xv = np.meshgrid(np.arange(ny, dtype=np.float32), np.arange(nx, dtype=np.float32), indexing='ij')
            grid = (np.stack((xv, yv), 2)[None, None] - 0.5).repeat(d.na, 1).astype(np.float32)
            ag = (d.anchors[i] * d.stride[i]).float().numpy().reshape(1, d.na, 1, 1, 2)
            two = self.const(f'{path}.{i}.two', np.float32(2))
            xy = self.node('Mul', [xy, two], name=f'{path}.{i}.xy_mul2')
            xy = self.node('Add', [xy, self.const(f'{path}.{i}.grid', grid)], name=f'{path}.{i}.xy_grid')
            xy = self.node('Mul', [xy, self.const(f'{path}.{i}.stride', np.float32(d.stride[i]))], name=f'{path}.{i}.xy_stride')
            wh = self.node('Mul', [wh, two], name=f'{path}.{i}.wh_mul2')
            wh = self.node('Mul', [wh, wh], name=f'{path}.{i}.wh_sq')
            wh = self.node('Mul', [wh, self.const(f'{path}.{i}.anchor_grid', ag)], name=f'{path}.{i}.wh_anchor')
            y = self.node('Concat', [xy, wh, conf], name=f'{path}.{i}.cat', axis=4)
            shp3 = self.const(f'{path}.{i}.shape3', np.array([-1, d.na * ny * nx, d.no], np.int64))
            outs.append(self.node('Reshape', [y, shp3], name=f'{path}.{i}.flatten'))
        return outs


def export(model, path, mode, bits_meta, imgsz=320):
    """model: fused DetectionModel (QAT: quantized) in eval mode. Writes an opset-13 ONNX file."""
    g = _Graph(mode)
    y, outs = [], None
    x = 'images'
    for i, m in enumerate(model.model):
        if m.f != -1:
            x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
        if isinstance(m, Detect):
            outs = g.detect(f'model.{i}', m, x, imgsz)
            x = None
        else:
            x = g.module(f'model.{i}', m, x)
        y.append(x)
    g.nodes.append(helper.make_node('Concat', outs, ['output0'], name='output0', axis=1))
    d = model.model[-1]
    n_out = sum(d.na * (imgsz // int(s)) ** 2 for s in d.stride)
    graph = helper.make_graph(
        g.nodes, f'shapes_{mode}',
        [helper.make_tensor_value_info('images', TensorProto.FLOAT, ['batch', 3, imgsz, imgsz])],
        [helper.make_tensor_value_info('output0', TensorProto.FLOAT, ['batch', n_out, d.no])], g.inits)
    om = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='qat-lens tools/example')
    om.ir_version = 7
    anchors_px = (d.anchors * d.stride.view(-1, 1, 1)).tolist()
    meta = {'stride': json.dumps([int(s) for s in d.stride]),
            'anchors': json.dumps([[round(v, 4) for pair in lvl for v in pair] for lvl in anchors_px]),
            'names': json.dumps(list(model.names)), 'nc': str(d.nc), 'imgsz': json.dumps([imgsz, imgsz]),
            'family': 'yolov5', 'bits': json.dumps(bits_meta)}
    for k, v in meta.items():
        p = om.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(om, full_check=True)
    onnx.save(om, path)
    return om
