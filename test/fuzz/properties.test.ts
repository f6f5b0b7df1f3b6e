// Property tests (fast-check, fixed seeds) for the pure parts: the pickle VM, the protobuf decode
// of ONNX models, COCO validation. Whatever the bytes or values: a result or a one-line
// QatLensError, never another exception.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { QatLensError } from '../../src/core/errors';
import { validateDets, validateGt } from '../../src/core/eval/cocoValidate';
import { decodeModel, onnx, tensorToArray } from '../../src/core/onnx/proto';
import { unpickle } from '../../src/core/readers/pickle';
import { sniffFormat } from '../../src/core/readers/index';
import { P, pickle } from '../helpers/pickleAsm';

const refusedCleanly = (f: () => unknown): boolean => {
  try {
    f();
    return true;
  } catch (err) {
    if (!(err instanceof QatLensError)) throw err;
    assert.ok(!err.message.includes('\n'), err.message);
    return true;
  }
};

test('pickle VM: arbitrary bytes end in a value or a one-line refusal', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (b) => refusedCleanly(() => unpickle(b, { file: 'p.pkl' }))),
    { seed: 14, numRuns: 3000 },
  );
});

test('pickle VM: opcode soup (valid opcodes, random order) never escapes as another exception', () => {
  const ops = [
    P.MARK,
    P.TUPLE,
    P.TUPLE2,
    P.LIST,
    P.APPENDS,
    P.SETITEMS,
    P.REDUCE,
    P.NEWOBJ,
    P.BUILD,
    P.emptyDict,
    P.emptyList,
    P.emptyTuple,
    P.NONE,
    P.int(3),
    P.str('a'),
    P.global('collections', 'OrderedDict'),
    P.global('builtins', 'set'),
    P.global('models.yolo', 'Detect'),
    P.put(0),
    P.get(0),
    P.POP,
    Uint8Array.of(0x32),
  ];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...ops), { maxLength: 40 }), (seq) => refusedCleanly(() => unpickle(pickle(...seq), { file: 'p.pkl' }))),
    { seed: 14, numRuns: 3000 },
  );
});

test('ONNX decode: arbitrary bytes and mutated models end in a model or a one-line refusal; tensors too', () => {
  const base = onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, graph: { name: 'g', initializer: [{ name: 'w', dims: [2, 2], dataType: 3, rawData: Uint8Array.of(1, 2, 3, 4) }] } }),
  ).finish();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(base.length), fc.uint8Array({ maxLength: 8 }), (noise, at, patch) => {
      const mutated = Uint8Array.from(base);
      mutated.set(patch.subarray(0, Math.max(0, mutated.length - at)), Math.min(at, mutated.length));
      for (const b of [noise, mutated]) {
        refusedCleanly(() => {
          sniffFormat(b);
          const m = decodeModel(b, 'm.onnx');
          for (const t of m.graph?.initializer ?? []) tensorToArray(t, 'm.onnx');
        });
      }
      return true;
    }),
    { seed: 14, numRuns: 3000 },
  );
});

test('COCO validation: any JSON value is accepted or refused in one bounded line', () => {
  const box = fc.array(fc.oneof(fc.double(), fc.integer(), fc.constant(null)), { maxLength: 5 });
  const ann = fc.record(
    { id: fc.oneof(fc.integer(), fc.string()), image_id: fc.integer(), category_id: fc.integer(), area: fc.double(), bbox: box, iscrowd: fc.oneof(fc.constant(0), fc.constant(1), fc.anything()) },
    { requiredKeys: [] },
  );
  const gt = fc.record(
    {
      images: fc.array(fc.record({ id: fc.oneof(fc.integer(), fc.anything()) }), { maxLength: 3 }),
      categories: fc.array(fc.record({ id: fc.integer(), name: fc.anything() }), { maxLength: 3 }),
      annotations: fc.array(ann, { maxLength: 4 }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(gt, fc.anything()), (v) => refusedCleanly(() => validateGt(v, 'gt.json'))),
    { seed: 14, numRuns: 2000 },
  );
  const det = fc.record({ image_id: fc.oneof(fc.integer(), fc.anything()), category_id: fc.integer(), bbox: box, score: fc.oneof(fc.double(), fc.anything()) }, { requiredKeys: [] });
  fc.assert(
    fc.property(fc.oneof(fc.array(det, { maxLength: 4 }), fc.anything()), (v) => {
      try {
        validateDets(v, 'dt.json');
      } catch (err) {
        if (!(err instanceof QatLensError)) throw err;
        assert.ok(err.message.length < 600, err.message);
      }
      return true;
    }),
    { seed: 14, numRuns: 2000 },
  );
});
