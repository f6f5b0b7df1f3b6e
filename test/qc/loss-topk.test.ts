// torchTopk (src/core/qc/loss/topk.ts) returns torch.topk's indices, ties included, on both of the
// CPU kernel's paths (tools/fixtures/qc/make_topk_fixtures.py, torch 1.13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torchTopk } from '../../src/core/qc/loss/topk';

const fx = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'qc', 'loss', 'topk_cases.json'), 'utf8'));

test('torchTopk equals torch.topk on tie-heavy arrays (nth_element and partial_sort paths)', () => {
  let partial = 0,
    tied = 0;
  for (const c of fx.cases) {
    assert.deepEqual(torchTopk(c.values, c.k, c.largest), c.indices, `n ${c.values.length} k ${c.k} largest ${c.largest}`);
    if (c.k * 64 <= c.values.length) partial++;
    if (new Set(c.values).size < c.values.length) tied++;
  }
  assert.ok(partial >= 70 && tied > 200, `${partial} partial_sort cases, ${tied} with ties`);
});

test('torchTopk ties are not simply lowest index first', () => {
  // A stable sort would answer [0, 1]; torch's nth_element does not.
  const c = fx.cases.find((x: { values: number[]; k: number; largest: boolean; indices: number[] }) => {
    const stable = x.values
      .map((v, i) => [v, i])
      .sort((a, b) => (x.largest ? b[0] - a[0] : a[0] - b[0]) || a[1] - b[1])
      .slice(0, x.k)
      .map((p) => p[1]);
    return JSON.stringify(stable) !== JSON.stringify(x.indices);
  });
  assert.ok(c, 'some case where torch breaks ties differently from a stable sort');
});
