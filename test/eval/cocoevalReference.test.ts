// The TypeScript evaluator against the Python reference (tools/reference/cocoeval_ref.py, a
// transcription of pycocotools) on every generated case of test/fixtures/cocoeval
// (tools/reference/gen_cocoeval_cases.py): the 12 stats, the printed lines, per-category AP/AP50
// and the precision-recall curves.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateCoco, type CocoDet, type CocoGt } from '../../src/core/eval/cocoeval';

interface Case {
  note: string;
  /** numpy version the reference ran with. */
  numpy: string;
  gt: CocoGt;
  dt: CocoDet[];
  imgIds?: number[];
  expected: {
    stats: number[];
    lines: string[];
    perCategory: Record<string, { name: string; ap: number; ap50: number }>;
    curves: Record<'iou50' | 'iou50to95', { overall: number[]; perCategory: Record<string, number[]> }>;
  };
}

const dir = join(__dirname, '..', 'fixtures', 'cocoeval');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const TOL = 1e-9;

function close(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= TOL, `${what}[${i}]: ${actual[i]} vs reference ${expected[i]}`);
  }
}

test('there are generated cases', () => assert.ok(files.length >= 10, files.join(', ')));

for (const f of files) {
  test(`matches the reference: ${f}`, () => {
    const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Case;
    const r = evaluateCoco(c.gt, c.dt, c.imgIds ? { imgIds: c.imgIds } : {});
    close(r.stats, c.expected.stats, 'stats');
    // numpy >= 2 sums in plain pairwise order, which the evaluator reproduces: bit-identical.
    // (numpy 1.x sums long arrays in 8192-element chunks; the last bit may differ there.)
    if (Number(c.numpy.split('.')[0]) >= 2) assert.deepEqual(r.stats, c.expected.stats, 'stats bit for bit');
    assert.deepEqual(r.summaryText.split('\n'), c.expected.lines);
    assert.deepEqual(Object.keys(r.perCategory).sort(), Object.keys(c.expected.perCategory).sort());
    for (const [id, e] of Object.entries(c.expected.perCategory)) {
      const a = r.perCategory[Number(id)];
      assert.equal(a.name, e.name);
      close([a.ap, a.ap50], [e.ap, e.ap50], `category ${id} [ap, ap50]`);
    }
    for (const key of ['iou50', 'iou50to95'] as const) {
      close(r.curves[key].overall, c.expected.curves[key].overall, `${key} overall curve`);
      for (const [id, e] of Object.entries(c.expected.curves[key].perCategory)) close(r.curves[key].perCategory[Number(id)], e, `${key} curve of ${id}`);
    }
  });
}
