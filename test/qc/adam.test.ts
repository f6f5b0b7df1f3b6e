// QC's Adam (src/core/qc/adam.ts) against torch.optim.Adam on the same parameters and gradients
// (tools/fixtures/qc/make_adam_fixture.py): large, tiny, zero and sign-changing gradients, two rates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Adam } from '../../src/core/qc/adam';

const c = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'qc', 'adam_case.json'), 'utf8')) as { init: number[][]; grads: number[][][]; after: Record<string, number[][]> };

for (const lr of ['0.001', '0.01']) {
  test(`Adam equals torch.optim.Adam after ${c.grads.length} steps (lr ${lr})`, () => {
    const params = c.init.map((p) => Float32Array.from(p));
    const opt = new Adam(
      params.map((p) => p.length),
      { lr: Number(lr) },
    );
    for (const g of c.grads)
      opt.step(
        params,
        g.map((x) => Float32Array.from(x)),
      );
    assert.equal(opt.t, c.grads.length);
    let moved = 0;
    params.forEach((p, i) =>
      p.forEach((v, k) => {
        const ref = c.after[lr][i][k];
        assert.ok(Math.abs(v - ref) <= 1e-6 * Math.max(1, Math.abs(ref)), `param ${i}[${k}]: ${v} vs torch ${ref}`);
        moved = Math.max(moved, Math.abs(v - c.init[i][k]));
      }),
    );
    assert.ok(moved > 3 * Number(lr), 'the parameters moved');
  });
}
