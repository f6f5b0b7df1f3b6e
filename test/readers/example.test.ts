// The bundled example's QAT checkpoints (examples/shapes/w4a4/epoch_*.pt, YOLOv5-style with LSQ
// QConv2d layers, committed): both variants, bits read from the file.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../src/core/readers/index';

const DIR = join(__dirname, '..', '..', 'examples', 'shapes', 'w4a4');
const files = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((f) => /^epoch_\d+\.pt$/.test(f))
      .sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)))
  : [];

test('example checkpoints: model and ema, LSQ quantizers with bits from the file', async () => {
  assert.equal(files.length, 3, `three committed epochs in ${DIR}`);
  const epochs: number[] = [];
  for (const f of files.slice(0, 3)) {
    const ck = await readCheckpoint(join(DIR, f));
    assert.equal(ck.format, 'pytorch');
    assert.equal(ck.modelClass, 'models.yolo.DetectionModel');
    assert.ok(
      ck.variants.some((v) => v.variant === 'model'),
      `${f}: no model variant`,
    );
    if (ck.epoch !== undefined) epochs.push(ck.epoch);
    for (const v of ck.variants) {
      assert.ok(v.layers.length > 0, `${f}/${v.variant}: no quantized layer`);
      for (const l of v.layers) {
        assert.equal(l.weightQuantizer.bitsSource, 'attribute', `${f}/${v.variant}/${l.name}`);
        assert.ok([3, 4, 8].includes(l.weightQuantizer.bits), `${l.name}: ${l.weightQuantizer.bits} bits`);
        assert.equal(
          l.weight.latent!.length,
          l.weight.shape.reduce((a, b) => a * b, 1),
        );
        assert.ok(l.weightQuantizer.scale.every((s) => s > 0));
        assert.ok(l.inputQuantizer, `${l.name}: input quantizer missing`);
      }
    }
  }
  for (let i = 1; i < epochs.length; i++) assert.ok(epochs[i] > epochs[i - 1], 'epochs increase with the file names');
});
