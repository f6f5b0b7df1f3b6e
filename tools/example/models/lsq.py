"""LSQ quantization (Esser et al., "Learned Step Size Quantization", ICLR 2020), per-tensor.

LsqQuantizer maps x to s * clamp(round_half_even(x / s), qmin, qmax). That is exactly ONNX
QuantizeLinear (x / s, round half to even, + z, saturate) followed by Clip to the b-bit range and
DequantizeLinear ((q - z) * s), written with the zero point folded into the integer range:
  weights:     signed, z = 0, qmin = -2^(b-1), qmax = 2^(b-1) - 1 (int8 storage, narrow range implicit);
  activations: unsigned b-bit codes 0..2^b-1 with a FIXED zero point z (uint8 in ONNX), i.e.
               qmin = -z, qmax = 2^b - 1 - z here. z = 1 for 3/4-bit activations (keeps SiLU's small
               negative lobe), z = 8 for the 8-bit Detect inputs, z = 0 for the 8-bit image input.
Rounding is straight-through; the step size gets LSQ's gradient scale 1 / sqrt(N * qmax)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def grad_scale(x, scale):
    y = x * scale
    return (x - y).detach() + y


def round_ste(x):
    # torch.round rounds half to even, like ONNX QuantizeLinear
    return (x.round() - x).detach() + x


class LsqQuantizer(nn.Module):
    def __init__(self, bits, signed=True, zero_point=0, per_sample=False):
        super().__init__()
        self.bits = int(bits)
        self.zero_point = int(zero_point)  # ONNX zero point (activations: uint8); 0 for weights
        if signed:
            self.qmin, self.qmax = -2 ** (self.bits - 1), 2 ** (self.bits - 1) - 1
        else:
            self.qmin, self.qmax = -self.zero_point, 2 ** self.bits - 1 - self.zero_point
        self.per_sample = bool(per_sample)  # activations: N in the gradient scale counts one sample
        self.s = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        n = x[0].numel() if self.per_sample else x.numel()
        s = grad_scale(self.s, 1.0 / math.sqrt(n * max(self.qmax, 1)))
        q = torch.clamp(x / s, self.qmin, self.qmax)
        return round_ste(q) * s

    @torch.no_grad()
    def init_from(self, x):
        """Step size minimising the quantization MSE on x (grid search; LSQ's 2<|x|>/sqrt(qmax)
        is poor at 3-4 bits)."""
        x = x.detach().float().flatten()
        if x.numel() > 2_000_000:
            x = x[torch.randperm(x.numel(), device=x.device)[:2_000_000]]
        top = max(x.max().item() / max(self.qmax, 1), (-x.min()).item() / max(-self.qmin, 1), 1e-8)
        best, best_s = None, top
        for f in torch.linspace(0.05, 1.0, 60).tolist():
            s = top * f
            err = (torch.clamp(torch.round(x / s), self.qmin, self.qmax) * s - x).pow(2).mean().item()
            if best is None or err < best:
                best, best_s = err, s
        self.s.fill_(best_s)

    def extra_repr(self):
        return f'bits={self.bits}, qmin={self.qmin}, qmax={self.qmax}, zero_point={self.zero_point}'


class QConv2d(nn.Conv2d):
    """Conv2d whose weight and input pass through LSQ fake quantizers."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, w_bits=4, a_bits=4, a_zero_point=1):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)
        self.weight_quantizer = LsqQuantizer(w_bits, signed=True)
        self.input_quantizer = LsqQuantizer(a_bits, signed=False, zero_point=a_zero_point, per_sample=True)

    @classmethod
    def from_conv(cls, conv, w_bits, a_bits, a_zero_point):
        q = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                conv.groups, True, w_bits, a_bits, a_zero_point).to(conv.weight.device)
        with torch.no_grad():
            q.weight.copy_(conv.weight)
            q.bias.copy_(conv.bias if conv.bias is not None else torch.zeros(conv.out_channels))
        q.weight_quantizer.init_from(q.weight)
        return q

    def forward(self, x):
        return F.conv2d(self.input_quantizer(x), self.weight_quantizer(self.weight), self.bias, self.stride,
                        self.padding, self.dilation, self.groups)
