// COCO files that used to crash the evaluator (issue 14): deeply nested JSON in ground truth and
// detections, and 200k categories. Each ends in one line naming the file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { QatLensError } from '../../src/core/errors';
import { runJob } from '../../src/core/jobs';
import { quietContext } from '../../src/core/context';

const dir = mkdtempSync(join(tmpdir(), 'qat-coco-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ctx = quietContext();
const nested = (d: number) => '['.repeat(d) + ']'.repeat(d);

const gtOk = { images: [{ id: 1, width: 10, height: 10 }], categories: [{ id: 1, name: 'a' }], annotations: [{ id: 1, image_id: 1, category_id: 1, area: 4, bbox: [1, 1, 2, 2], iscrowd: 0 }] };
const detsOk = [{ image_id: 1, category_id: 1, bbox: [1, 1, 2, 2], score: 0.9 }];

async function evalFails(gtText: string, dtText: string, file: 'gt' | 'dt', pattern: RegExp): Promise<void> {
  const gt = join(dir, `gt${Math.random()}.json`);
  const dt = join(dir, `dt${Math.random()}.json`);
  writeFileSync(gt, gtText);
  writeFileSync(dt, dtText);
  await assert.rejects(runJob({ kind: 'eval', params: { gt, dt } }, ctx), (err: unknown) => {
    assert.ok(err instanceof QatLensError, String((err as Error)?.stack ?? err));
    assert.ok(err.message.startsWith(`${file === 'gt' ? gt : dt}: `), err.message);
    assert.ok(!err.message.includes('\n'));
    assert.ok(err.message.length < 400, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('a bbox nested 100k levels deep in the ground truth: one line, no stack overflow', () =>
  evalFails(
    JSON.stringify({ ...gtOk, annotations: [{ ...gtOk.annotations[0], bbox: '@' }] }).replace('"@"', nested(100_000)),
    JSON.stringify(detsOk),
    'gt',
    /annotations\[0\]: "bbox" must be \[x, y, width, height\] of finite numbers, got \[\[\[\[…\]\]\]\]/,
  ));

test('a score nested 100k levels deep in the detections: one line, no stack overflow', () =>
  evalFails(JSON.stringify(gtOk), JSON.stringify([{ ...detsOk[0], score: '@' }]).replace('"@"', nested(100_000)), 'dt', /detection \[0\]: "score" must be a finite number, got \[\[\[\[…\]\]\]\]/));

test("200k categories: a clear error before pycocotools' precision table is allocated", () => {
  const categories = Array.from({ length: 200_000 }, (_, i) => ({ id: i + 1, name: `c${i}` }));
  return evalFails(
    JSON.stringify({ ...gtOk, categories }),
    JSON.stringify(detsOk),
    'gt',
    /precision table for 200000 categories would need 18\.2 GB, more than this machine allows .*keep only the categories you evaluate/,
  );
});
