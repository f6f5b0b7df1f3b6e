// The graph index: producers, consumers, constants (initializer, Constant, Identity), one naming rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphIndex, attrFloat, attrInt, attrInts, attrStr, attrTensor, nodeName } from '../../src/core/onnx/graph';
import { DataType, makeTensor, onnx, tensorToFloat64 } from '../../src/core/onnx/proto';

const A = onnx.AttributeProto.AttributeType;
const model = () =>
  onnx.GraphProto.create({
    name: 'g',
    initializer: [makeTensor('w', [2], [1, 2], DataType.FLOAT)],
    node: [
      onnx.NodeProto.create({ opType: 'Identity', input: ['w'], output: ['w2'] }),
      onnx.NodeProto.create({
        opType: 'Constant',
        output: ['c'],
        name: 'const',
        attribute: [onnx.AttributeProto.create({ name: 'value_ints', type: A.INTS, ints: [3, 4, 5] })],
      }),
      onnx.NodeProto.create({ opType: 'Mul', input: ['x', 'x'], output: ['y'] }),
      onnx.NodeProto.create({
        opType: 'Conv',
        input: ['y', 'w2'],
        output: ['z'],
        name: 'conv',
        attribute: [
          onnx.AttributeProto.create({ name: 'group', type: A.INT, i: 2 }),
          onnx.AttributeProto.create({ name: 'pads', type: A.INTS, ints: [1, 1, 1, 1] }),
          onnx.AttributeProto.create({ name: 'alpha', type: A.FLOAT, f: 0.5 }),
          onnx.AttributeProto.create({ name: 'auto_pad', type: A.STRING, s: new TextEncoder().encode('SAME_UPPER') }),
          onnx.AttributeProto.create({ name: 'value', type: A.TENSOR, t: makeTensor('t', [], [9], DataType.FLOAT) }),
        ],
      }),
    ],
  });

test('nodeName: the node name, else Op#index', () => {
  const g = new GraphIndex(model());
  assert.deepEqual(
    g.nodes.map((n) => g.name(n)),
    ['Identity#0', 'const', 'Mul#2', 'conv'],
  );
  assert.equal(nodeName(onnx.NodeProto.create({ opType: 'Relu' }), 17), 'Relu#17');
  assert.equal(g.node('Mul#2')?.output?.[0], 'y');
  assert.equal(g.node('conv')?.opType, 'Conv');
  assert.equal(g.node('Mul_2'), undefined);
});

test('producer, consumers (a node reading a tensor twice is listed once) and uses with slots', () => {
  const g = new GraphIndex(model());
  assert.equal(g.producer.get('z')?.name, 'conv');
  assert.equal(g.consumers.get('x')?.length, 1);
  assert.deepEqual(
    g.uses('x').map((u) => u.slot),
    [0, 1],
  );
  assert.deepEqual(
    g.uses('w2').map((u) => [u.node.opType, u.slot]),
    [['Conv', 1]],
  );
});

test('constant: initializers, Identity of one, Constant nodes; computed tensors are not constants', () => {
  const g = new GraphIndex(model());
  assert.deepEqual(Array.from(tensorToFloat64(g.constant('w2')!)), [1, 2]);
  const c = g.constant('c')!;
  assert.equal(c.name, 'c');
  assert.equal(c.dataType, DataType.INT64);
  assert.deepEqual(Array.from(tensorToFloat64(c)), [3, 4, 5]);
  assert.equal(g.constant('y'), undefined);
  assert.equal(g.constant(''), undefined);
});

test('attribute helpers read each type, with defaults for absent ones', () => {
  const conv = new GraphIndex(model()).node('conv')!;
  assert.equal(attrInt(conv, 'group', 1), 2);
  assert.equal(attrInt(conv, 'missing', 1), 1);
  assert.deepEqual(attrInts(conv, 'pads', [0, 0, 0, 0]), [1, 1, 1, 1]);
  assert.deepEqual(attrInts(conv, 'strides', [1, 1]), [1, 1]);
  assert.equal(attrFloat(conv, 'alpha', 1), 0.5);
  assert.equal(attrStr(conv, 'auto_pad', 'NOTSET'), 'SAME_UPPER');
  assert.equal(attrStr(conv, 'mode', 'x'), 'x');
  assert.deepEqual(Array.from(tensorToFloat64(attrTensor(conv, 'value')!)), [9]);
});
