// Compares a Checkpoint with the numbers tools/fixtures/make_reader_fixtures.py computed with numpy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint, QuantizedLayer, Quantizer } from '../../src/core/model';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'readers');
export const expected: Record<string, any> = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));

const close = (a: number, b: number, rel = 1e-9, what = '') => assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);

function checkQuantizer(q: Quantizer | undefined, e: any, what: string, rel = 1e-9) {
  assert.ok(q, `${what}: quantizer missing`);
  assert.equal(q.scale.length, e.scale.length, `${what}: scale length`);
  e.scale.forEach((s: number, i: number) => close(q.scale[i], s, rel, `${what} scale[${i}]`));
  if (e.zeroPoint) e.zeroPoint.forEach((z: number, i: number) => assert.equal(q.zeroPoint[i], z, `${what} zero point[${i}]`));
  assert.equal(q.qmin, e.qmin, `${what} qmin`);
  assert.equal(q.qmax, e.qmax, `${what} qmax`);
  if ('axis' in e) assert.equal(q.axis, e.axis, `${what} axis`);
  if (e.bitsSource) assert.equal(q.bitsSource, e.bitsSource, `${what} bitsSource`);
}

export function checkLayer(l: QuantizedLayer | undefined, e: any, what: string) {
  assert.ok(l, `${what}: layer missing`);
  assert.equal(l.op, e.op, `${what} op`);
  checkQuantizer(l.weightQuantizer, { ...e.quantizer, bitsSource: e.bitsSource }, `${what} weight`);
  assert.equal(l.weightQuantizer.bits, e.bits, `${what} bits`);
  if (e.latent) {
    const w = l.weight.latent;
    assert.ok(w, `${what}: latent weights missing`);
    assert.deepEqual(l.weight.shape, e.latent.shape);
    assert.equal(
      w.length,
      e.latent.shape.reduce((a: number, b: number) => a * b, 1),
    );
    let sum = 0,
      abs = 0;
    for (const v of w) {
      sum += v;
      abs += Math.abs(v);
    }
    close(sum, e.latent.sum, 1e-9, `${what} weight sum`);
    close(abs, e.latent.absSum, 1e-9, `${what} weight |sum|`);
    e.latent.first.forEach((v: number, i: number) => assert.equal(w[i], v, `${what} weight[${i}]`));
    assert.equal(w[w.length - 1], e.latent.last);
    assert.equal(l.weight.integer, undefined);
  }
  if (e.integer) {
    const q = l.weight.integer;
    assert.ok(q, `${what}: integer weights missing`);
    assert.equal(l.weight.latent, undefined);
    assert.deepEqual(l.weight.shape, e.integer.shape);
    assert.equal(
      q.reduce((a, b) => a + b, 0),
      e.integer.sum,
    );
    assert.deepEqual(Array.from(q.subarray(0, 4)), e.integer.first);
    if (e.integer.all) assert.deepEqual(Array.from(q), e.integer.all);
  }
  if (e.bias) {
    assert.ok(l.bias, `${what}: bias missing`);
    assert.equal(l.bias.length, e.bias.length);
    e.bias.forEach((b: number, i: number) => close(l.bias![i], b, 1e-6, `${what} bias[${i}]`));
  }
  if (e.inputQuantizer) checkQuantizer(l.inputQuantizer, e.inputQuantizer, `${what} input`, 1e-6);
  if (e.outputQuantizer) checkQuantizer(l.outputQuantizer, e.outputQuantizer, `${what} output`, 1e-6);
  if (e.inputScale !== undefined) close(l.inputQuantizer?.scale[0] ?? NaN, e.inputScale, 1e-6, `${what} input scale`);
  if (e.outputScale !== undefined) close(l.outputQuantizer?.scale[0] ?? NaN, e.outputScale, 1e-6, `${what} output scale`);
  if (e.inputRange) assert.deepEqual([l.inputQuantizer!.qmin, l.inputQuantizer!.qmax], e.inputRange);
  if (e.inputZeroPoint !== undefined) assert.equal(l.inputQuantizer!.zeroPoint[0], e.inputZeroPoint);
}

/** Every expected layer of every expected variant is read, with nothing extra. */
export function checkCheckpoint(ck: Checkpoint, e: any) {
  assert.equal(ck.format, e.format);
  if ('epoch' in e) assert.equal(ck.epoch, e.epoch);
  if (e.modelClass) assert.equal(ck.modelClass, e.modelClass);
  if (e.noteMatches)
    assert.ok(
      ck.notes.some((n) => n.includes(e.noteMatches)),
      `no note with '${e.noteMatches}': ${ck.notes.join(' | ')}`,
    );
  if (e.activationScales) {
    const scales = ck.variants[0].activations.map((a) => a.quantizer.scale[0]);
    assert.equal(scales.length, e.activationScales.length, 'activation quantizers');
    e.activationScales.forEach((s: number, i: number) => assert.ok(Math.abs(scales[i] - s) < 1e-6, `activation scale ${i}`));
  }
  const variants: Record<string, any> = e.variants ?? { graph: e.layers };
  assert.deepEqual(ck.variants.map((v) => v.variant).sort(), Object.keys(variants).sort());
  for (const v of ck.variants) {
    const layers = variants[v.variant];
    assert.deepEqual(v.layers.map((l) => l.name).sort(), Object.keys(layers).sort(), `${v.variant}: layer names`);
    for (const [name, el] of Object.entries(layers))
      checkLayer(
        v.layers.find((l) => l.name === name),
        el,
        `${v.variant}/${name}`,
      );
  }
}
