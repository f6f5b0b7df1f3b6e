// The streamed JSON writer is byte-identical to JSON.stringify(value, null, indent) and never
// builds the whole text (large reports would overflow one JavaScript string).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonChunks } from '../../src/core/io/jsonChunks';

const text = (v: unknown, indent: number) => [...jsonChunks(v, indent)].join('');

test('equals JSON.stringify on arbitrary JSON-like values (indent 0, 1, 2)', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2), (v, indent) => text(v, indent) === JSON.stringify(v, null, indent)),
    { seed: 14, numRuns: 500 },
  );
});

test('undefined, functions, NaN, toJSON and typed arrays as JSON.stringify writes them', () => {
  const v = { a: undefined, b: () => 1, c: NaN, d: [undefined, Infinity, -0], e: new Date(0), f: new Float32Array([1.5, 2]), g: {}, h: [], i: { j: null } };
  for (const indent of [0, 1, 2]) assert.equal(text(v, indent), JSON.stringify(v, null, indent));
});

test('a 28 MB report comes out in chunks of about 64 KB, nesting included', () => {
  const layers = Array.from({ length: 20_000 }, (_, i) => ({ name: `model.${i}.conv`, hist: Array.from({ length: 20 }, (_, k) => k * i), cC: Array.from({ length: 64 }, () => 0.123456789) }));
  let deep: unknown = 1;
  for (let i = 0; i < 1000; i++) deep = [deep];
  let max = 0,
    total = 0;
  for (const c of jsonChunks({ layers, deep }, 1)) {
    max = Math.max(max, c.length);
    total += c.length;
  }
  assert.ok(total > 20e6, `${total}`);
  assert.ok(max < 70_000, `largest chunk ${max}`);
});
