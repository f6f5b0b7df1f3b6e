// A Conv layer and a Gemm layer (int8 weights + DequantizeLinear), Flatten between: the loss
// L = Σ y·dy is linear in each single γ_c and β_c, so a unit step of the engine's own forward gives
// each gradient exactly (up to float32 sums) — a check of the Gemm site ([1, C] γ/β, sums over the
// batch) and of Flatten's backward through the whole engine.
import assert from 'node:assert/strict';
import test from 'node:test';
import { DataType, makeTensor, onnx } from '../../src/core/onnx/proto';
import type { QuantLayer } from '../../src/core/qc/heads';
import { createGradEngine } from '../../src/core/train/engine';
import { floats, node, relErr, uniform } from '../helpers/opGrad';

const int8 = (name: string, dims: number[], seed: number) =>
  makeTensor(
    name,
    dims,
    uniform(
      dims.reduce((a, b) => a * b, 1),
      seed,
      -8,
      8,
    ).map(Math.round),
    DataType.INT8,
  );

function model(): onnx.ModelProto {
  const vi = (name: string, dims?: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType: 1, ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } : {}) } },
  });
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'gemm_case',
      node: [
        node('DequantizeLinear', ['cw_q', 'cw_s'], ['cw']),
        node('Conv', ['images', 'cw', 'cb'], ['c'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
        node('Flatten', ['c'], ['f'], { axis: 1 }),
        node('DequantizeLinear', ['gw_q', 'gw_s'], ['gw']),
        node('Gemm', ['f', 'gw', 'gb'], ['y'], { transB: 1 }),
      ],
      initializer: [
        int8('cw_q', [4, 3, 3, 3], 1),
        floats('cw_s', [], [0.05]),
        floats('cb', [4], uniform(4, 2)),
        int8('gw_q', [5, 4 * 4 * 4], 3),
        floats('gw_s', [], [0.02]),
        floats('gb', [5], uniform(5, 4)),
      ],
      input: [vi('images', ['batch', 3, 8, 8])],
      output: [vi('y')],
    },
  });
}

test("Gemm and Conv sites: dγ/dβ equal unit-step differences of the engine's own forward", async () => {
  const layers: QuantLayer[] = [
    { name: 'conv', op: 'Conv', output: 'c', channels: 4, dq: 'cw', perTensor: true },
    { name: 'gemm', op: 'Gemm', output: 'y', channels: 5, dq: 'gw', perTensor: true },
  ];
  const e = await createGradEngine(model(), 'gemm.onnx', { layers, heads: ['y'], engine: 'cpu', threads: 1 });
  try {
    const B = 3;
    const images = uniform(B * 3 * 64, 5, 0, 1);
    const gamma = [uniform(4, 6, 0.8, 1.2), uniform(5, 7, 0.8, 1.2)],
      beta = [uniform(4, 8, -0.1, 0.1), uniform(5, 9, -0.1, 0.1)];
    const dy = uniform(B * 5, 10);
    const L = async (g: Float32Array[], b: Float32Array[]) => (await e.forward(images, B, g, b))[0].reduce((a, v, i) => a + v * dy[i], 0);
    const L0 = await L(gamma, beta);
    const { dGamma, dBeta } = await e.backward(images, B, gamma, beta, [dy]);
    for (const [which, params, grads] of [
      ['γ', gamma, dGamma],
      ['β', beta, dBeta],
    ] as const) {
      for (let l = 0; l < 2; l++) {
        const fd: number[] = [];
        for (let c = 0; c < params[l].length; c++) {
          const p = params.map((a) => Float32Array.from(a));
          p[l][c] += 1;
          fd.push((which === 'γ' ? await L(p, beta) : await L(gamma, p)) - L0);
        }
        const err = relErr(grads[l], fd);
        assert.ok(err < 1e-4, `d${which} of ${layers[l].name}: relative error ${err} (${Array.from(grads[l])} vs ${fd})`);
      }
    }
  } finally {
    await e.dispose();
  }
});
