// The one home of Q/DQ semantics: integer ranges, round half to even (checked against onnxruntime's
// QuantizeLinear on ties and near-ties), and the weight/activation patterns read from a graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphIndex } from '../../src/core/onnx/graph';
import { DataType, makeTensor, onnx } from '../../src/core/onnx/proto';
import { NotConstantError, clampRange, clipBounds, intRange, quantizeLinear, quantizeOutputType, roundHalfEven, traceDq, weightChainOf } from '../../src/core/onnx/qdq';

const T = (name: string, dims: number[], v: number[], dt: number) => makeTensor(name, dims, v, dt);
const N = (opType: string, input: string[], output: string[], attrs: onnx.IAttributeProto[] = [], name = output[0]) => onnx.NodeProto.create({ opType, input, output, name, attribute: attrs });

test('intRange covers every integer type a quantizer stores, int4/uint4 included', () => {
  assert.deepEqual(intRange(DataType.INT4), [-8, 7]);
  assert.deepEqual(intRange(DataType.UINT4), [0, 15]);
  assert.deepEqual(intRange(DataType.INT8), [-128, 127]);
  assert.deepEqual(intRange(DataType.UINT8), [0, 255]);
  assert.deepEqual(intRange(DataType.INT16), [-32768, 32767]);
  assert.deepEqual(intRange(DataType.UINT16), [0, 65535]);
  assert.deepEqual(intRange(DataType.INT32), [-(2 ** 31), 2 ** 31 - 1]);
  assert.deepEqual(intRange(DataType.UINT32), [0, 2 ** 32 - 1]);
  assert.equal(intRange(DataType.FLOAT), undefined);
  assert.equal(intRange(DataType.INT64), undefined);
  // makeTensor packs int4 within the same table's range, and refuses one step outside it.
  assert.doesNotThrow(() => makeTensor('a', [2], [-8, 7], DataType.INT4));
  assert.throws(() => makeTensor('a', [1], [8], DataType.INT4), /not a int4 value/);
  assert.throws(() => makeTensor('a', [1], [-1], DataType.UINT4), /not a uint4 value/);
});

test('clampRange narrows a type range to the integers inside Clip bounds', () => {
  assert.deepEqual(clampRange([-128, 127], [-8, 7]), [-8, 7]);
  assert.deepEqual(clampRange([-128, 127], [-7.5, 6.9]), [-7, 6]);
  assert.deepEqual(clampRange([0, 15], [-100, 100]), [0, 15]);
  assert.deepEqual(clampRange([0, 15], null), [0, 15]);
});

test('roundHalfEven rounds ties to even, exactly, and never returns -0', () => {
  const cases: [number, number][] = [
    [-2.5, -2],
    [-1.5, -2],
    [-0.5, 0],
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [-7.5, -8],
    [7.5, 8],
    [2.4999999999999996, 2],
    [0.5000000000000001, 1],
    [0.49999999999999994, 0],
    [-0.5000000000000001, -1],
    [2 ** 52 + 1, 2 ** 52 + 1],
    [2 ** 51 + 0.5, 2 ** 51],
    [2 ** 51 + 1.5, 2 ** 51 + 2],
    [-(2 ** 51) - 0.5, -(2 ** 51)],
  ];
  for (const [x, want] of cases) assert.equal(roundHalfEven(x), want, `roundHalfEven(${x})`);
  for (const x of [-0.5, -0.25, -0, -0.49999999999999994]) assert.ok(Object.is(roundHalfEven(x), 0), `roundHalfEven(${x}) is +0`);
  // Against an independent formulation (Math.round is half up; step back at odd ties) on random halves and non-halves.
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20000; i++) {
    const x = i % 2 ? Math.floor((rnd() - 0.5) * 1000) + 0.5 : (rnd() - 0.5) * 1000;
    const r = Math.round(x);
    const ref = r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
    assert.equal(roundHalfEven(x), ref + 0, `x = ${x}`);
  }
});

test('quantizeLinear equals onnxruntime QuantizeLinear (float32 divide, ties, saturation, zero point)', async () => {
  const scale = 0.1;
  // Values whose x / 0.1 lands on or next to a tie in float32, plus out-of-range ones.
  const xs = Float32Array.from([0.05, 0.15, 0.25, -0.05, -0.15, -0.25, 0.35, 1.25, -1.25, 0.45000002, 12.8, -12.9, 0.7499999, 0.75, 0]);
  for (const [dt, z] of [
    [DataType.INT8, 0],
    [DataType.UINT8, 128],
    [DataType.INT8, -3],
  ] as const) {
    const graph = onnx.GraphProto.create({
      name: 'q',
      input: [onnx.ValueInfoProto.create({ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: xs.length }] } } } })],
      output: [onnx.ValueInfoProto.create({ name: 'q', type: { tensorType: { elemType: dt } } })],
      initializer: [T('s', [], [scale], DataType.FLOAT), T('z', [], [z], dt)],
      node: [N('QuantizeLinear', ['x', 's', 'z'], ['q'])],
    });
    const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph });
    const sess = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    const out = await sess.run({ x: new ort.Tensor('float32', xs, [xs.length]) });
    await sess.release();
    const [qmin, qmax] = intRange(dt)!;
    const ours = Array.from(xs, (x) => quantizeLinear(x, Math.fround(scale), z, qmin, qmax, true));
    assert.deepEqual(ours, Array.from(out.q.data as ArrayLike<number>), `type ${dt}, zero point ${z}`);
  }
  // In float64 the quotient is not rounded to float32 first: 0.35 / 0.1 = 3.4999999999999996 -> 3.
  assert.equal(quantizeLinear(0.35, 0.1, 0, -128, 127, false), 3);
});

/** float W -> Q -> Clip -> DQ -> Conv#0 ; int W (via Identity) -> DQ -> Conv ; x -> Q -> DQ (activation). */
function patternModel(): onnx.IModelProto {
  const f = (name: string, v: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
  const graph = onnx.GraphProto.create({
    name: 'patterns',
    initializer: [
      T('wf', [2, 1, 1, 1], [0.3, -0.2], DataType.FLOAT),
      T('wi', [2, 2, 1, 1], [1, -2, 3, 7], DataType.INT4),
      T('s', [], [0.1], DataType.FLOAT),
      T('z8', [], [0], DataType.INT8),
      T('z4', [], [0], DataType.INT4),
      T('lo', [], [-4], DataType.INT8),
      T('hi', [], [3], DataType.INT8),
      T('sa', [], [0.02], DataType.FLOAT),
    ],
    node: [
      N('QuantizeLinear', ['x', 'sa'], ['xq']),
      N('DequantizeLinear', ['xq', 'sa'], ['xd']),
      N('QuantizeLinear', ['wf', 's', 'z8'], ['wq']),
      N('Clip', ['wq', 'lo', 'hi'], ['wc']),
      N('DequantizeLinear', ['wc', 's', 'z8'], ['wd']),
      N('Conv', ['xd', 'wd'], ['y1'], [], ''),
      N('Identity', ['wi'], ['wi2']),
      N('DequantizeLinear', ['wi2', 's', 'z4'], ['wid']),
      N('Conv', ['y1', 'wid'], ['y2'], [], ''),
      N('Clip', ['y2'], ['y3'], [f('min', -1), f('max', 2.5)]),
      N('Clip', ['y3', 'y2'], ['y4']),
      N('Mul', ['y4', 'y4'], ['y5']),
      N('Constant', [], ['k'], [f('value_float', 0.25)]),
    ],
  });
  return onnx.ModelProto.create({ irVersion: 9, opsetImport: [{ domain: '', version: 21 }], graph });
}

test('traceDq and weightChainOf read the integer, latent and activation patterns', () => {
  const g = new GraphIndex(patternModel().graph!);
  const [conv1, conv2] = g.nodes.filter((n) => n.opType === 'Conv');
  const latent = weightChainOf(g, conv1);
  assert.equal(latent?.kind, 'latent');
  assert.equal(latent!.weight, 'wf');
  assert.equal(latent!.clip?.output?.[0], 'wc');
  assert.equal(latent!.kind === 'latent' && latent!.q.output?.[0], 'wq');
  assert.deepEqual(clampRange(intRange(quantizeOutputType(g, latent!.kind === 'latent' ? latent!.q : conv1))!, clipBounds(g, latent!.clip!)), [-4, 3]);
  const integer = weightChainOf(g, conv2);
  assert.equal(integer?.kind, 'integer');
  assert.equal(integer!.weight, 'wi2');
  assert.equal(integer!.tensor.dataType, DataType.INT4, 'Identity of an initializer is that initializer');
  const act = traceDq(g, g.producer.get('xd')!);
  assert.equal(act?.kind, 'activation');
  assert.equal(act!.kind === 'activation' && act!.input, 'x');
  assert.equal(act!.kind === 'activation' && quantizeOutputType(g, act!.q), DataType.UINT8, 'no zero point: uint8');
  assert.equal(weightChainOf(g, g.producer.get('y5')!), undefined, 'a Mul has no weight chain');
});

test('clipBounds reads opset-6 attributes and refuses computed bounds', () => {
  const g = new GraphIndex(patternModel().graph!);
  assert.deepEqual(clipBounds(g, g.producer.get('y3')!), [-1, 2.5]);
  assert.throws(
    () => clipBounds(g, g.producer.get('y4')!),
    (e: unknown) => e instanceof NotConstantError && /Clip 'y4': min 'y2' is computed/.test((e as Error).message),
  );
});
