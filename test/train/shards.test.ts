// The CPU engine cut into shards (src/core/train/shards.ts): slices of whole images on worker
// threads give one engine's heads and gradients (to float summation order) on every path (kept
// values, recompute, γ changed between forward and backward), and errors arrive as the one engine's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadModel } from '../../src/core/onnx/proto';
import { createGradEngine, type GradEngine } from '../../src/core/train/engine';
import { createShardedEngine, fromInfo, Shard, sliceCounts } from '../../src/core/train/shards';
import { QatLensError, toErrorInfo } from '../../src/core/errors';
import { caseInputs, maxRelDiff, type CaseSpec } from '../helpers/trainCase';

const ROOT = join(__dirname, '..', '..');
const ref = (JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'train', 'vjp_reference.json'), 'utf8')) as Record<string, { spec: CaseSpec }>).tiny.spec;
const B = 3;
const TINY: CaseSpec = { ...ref, file: join(ROOT, ref.file), batch: B, headShapes: ref.headShapes.map((s) => [B, ...s.slice(1)]) };
const open = (shards: number) => createGradEngine(loadModel(TINY.file), TINY.file, { layers: TINY.layers, heads: TINY.heads, engine: 'cpu', threads: 2, shards });

test('slices: as even as whole images allow, none empty', () => {
  assert.deepEqual(sliceCounts(16, 2), [8, 8]);
  assert.deepEqual(sliceCounts(3, 2), [2, 1]);
  assert.deepEqual(sliceCounts(5, 3), [2, 2, 1]);
  assert.deepEqual(sliceCounts(1, 4), [1]);
});

test("two shards give one engine's heads and dγ/dβ: kept, recomputed, and with γ changed after the forward", async (t) => {
  const one = await open(1),
    two = await open(2);
  try {
    assert.match(one.device, /^cpu \(2 threads\)$/);
    assert.match(two.device, /^cpu \(2 shards x 1 thread\)$/);
    assert.equal(two.keeps, true);
    const inp = caseInputs(TINY);
    const run = async (e: GradEngine) => {
      const heads = await e.forward(inp.images, B, inp.gamma, inp.beta, true);
      const kept = await e.backward(inp.images, B, inp.gamma, inp.beta, inp.dHeads);
      // No kept forward for this memory: recomputed.
      const recomputed = await e.backward(inp.images.slice(), B, inp.gamma, inp.beta, inp.dHeads);
      // γ moved after a kept forward: the kept values are stale, so the backward must recompute.
      await e.forward(inp.images, B, inp.gamma, inp.beta, true);
      const moved = inp.gamma.map((g) => g.map((v) => v * 1.1));
      const changed = await e.backward(inp.images, B, moved, inp.beta, inp.dHeads);
      return { heads, kept, recomputed, changed };
    };
    const a = await run(one),
      b = await run(two);
    const h = maxRelDiff(b.heads, a.heads);
    assert.ok(h.worst <= 1e-6, `heads: ${h.worst}`);
    for (const k of ['kept', 'recomputed', 'changed'] as const) {
      const dg = maxRelDiff(b[k].dGamma, a[k].dGamma),
        db = maxRelDiff(b[k].dBeta, a[k].dBeta);
      t.diagnostic(`${k}: dγ ${dg.worst.toExponential(2)}, dβ ${db.worst.toExponential(2)} of each layer's largest`);
      assert.ok(dg.worst <= 1e-5 && db.worst <= 1e-5, `${k}: dγ ${dg.worst}, dβ ${db.worst}`);
    }
    // The changed γ gives other gradients than the kept ones (the stale values were not used).
    assert.ok(maxRelDiff(b.changed.dGamma, b.kept.dGamma).worst > 1e-3);
    // One image: one shard works, the answer is the same.
    const per = 3 * TINY.size[0] * TINY.size[1];
    const img1 = inp.images.subarray(0, per),
      d1 = inp.dHeads.map((d) => d.subarray(0, d.length / B));
    const g1 = await two.backward(img1, 1, inp.gamma, inp.beta, d1),
      r1 = await one.backward(img1, 1, inp.gamma, inp.beta, d1);
    assert.ok(maxRelDiff(g1.dGamma, r1.dGamma).worst <= 1e-5);
  } finally {
    await Promise.all([one.dispose(), two.dispose()]);
  }
});

test("a shard's error arrives as the one engine's (file and what is wrong); a closed engine says so", async () => {
  const e = await open(2);
  const g = TINY.layers.map((l) => new Float32Array(l.channels).fill(1)),
    b = TINY.layers.map((l) => new Float32Array(l.channels));
  const per = 3 * TINY.size[0] * TINY.size[1];
  try {
    await assert.rejects(e.forward(new Float32Array(10), 1, g, b), /tiny_qdq\.onnx: expected 1 x 3 x 64 x 64 image values, got 10/);
    // Checked inside the shards' threads: the message and the file come back.
    await assert.rejects(e.forward(new Float32Array(2 * per), 2, g.slice(1), b), (err: Error & { code?: string }) => {
      assert.match(err.message, /tiny_qdq\.onnx: expected γ and β for 9 layers, got 8 and 9$/);
      assert.equal(err.code, 'EINPUT');
      return true;
    });
    await assert.rejects(e.backward(new Float32Array(2 * per), 2, g, b, [new Float32Array(3)]), /tiny_qdq\.onnx: dHeads\[0\] for '[^']+' must have 2 x 21 x 8 x 8 values/);
    // Still works after errors.
    assert.equal((await e.forward(new Float32Array(2 * per), 2, g, b)).length, TINY.heads.length);
  } finally {
    await e.dispose();
  }
  await assert.rejects(e.forward(new Float32Array(2 * per), 2, g, b), /QC gradient engine closed/);
});

test('a shard thread that stops fails its pending call and every later one with an error naming the model', async () => {
  // A thread that exits on its first message, as a crashed shard would.
  const s = new Shard(new Worker("require('node:worker_threads').parentPort.once('message', () => process.exit(3));", { eval: true }), 'model.onnx');
  const g = [new Float32Array(1)];
  const call = () => s.call({ op: 'forward', images: new Float32Array(3), batch: 1, gamma: g, beta: g, keep: false });
  await assert.rejects(call(), /^QatLensError: model\.onnx: QC gradient shard stopped \(exit code 3\)$/);
  await assert.rejects(call(), /QC gradient shard stopped \(exit code 3\)/);
  await s.close();
});

test("a shard whose engine cannot open fails the start with that engine's error, and its threads end", async () => {
  const opening = createShardedEngine(loadModel(TINY.file), TINY.file, { layers: TINY.layers, heads: ['no such head'], imgsz: TINY.size }, 2, 1, []);
  await assert.rejects(opening, (err: Error) => {
    assert.match(err.message, /^.*tiny_qdq\.onnx: .*no such head/);
    return true;
  });
});

test('two sharded engines give the same heads and dγ/dβ bit for bit (a run repeats on the same machine and cores)', async () => {
  const inp = caseInputs(TINY);
  const once = async () => {
    const e = await open(2);
    try {
      const heads = await e.forward(inp.images, B, inp.gamma, inp.beta, true);
      return { heads, ...(await e.backward(inp.images, B, inp.gamma, inp.beta, inp.dHeads)) };
    } finally {
      await e.dispose();
    }
  };
  const [a, b] = [await once(), await once()];
  assert.deepEqual(b.heads, a.heads);
  assert.deepEqual(b.dGamma, a.dGamma);
  assert.deepEqual(b.dBeta, a.dBeta);
  assert.ok(a.dGamma.some((g) => g.some((v) => v !== 0)));
});

test("a shard's error is rebuilt as thrown there: the engine's errors with file and code, a RangeError (memory) as a RangeError, anything else named as the shard's", () => {
  const q = fromInfo(toErrorInfo(new QatLensError('expected 9 layers', '/m/model.onnx', 'EINPUT')), '/m/model.onnx');
  assert.ok(q instanceof QatLensError);
  assert.equal(q.message, '/m/model.onnx: expected 9 layers');
  assert.equal((q as QatLensError).code, 'EINPUT');
  assert.equal((q as QatLensError).file, '/m/model.onnx');
  let oom: unknown;
  try {
    new ArrayBuffer(2 ** 53);
  } catch (e) {
    oom = e;
  }
  const r = fromInfo(toErrorInfo(oom), 'model.onnx');
  assert.ok(r instanceof RangeError, String(r));
  assert.equal(r.message, (oom as Error).message);
  const other = fromInfo(toErrorInfo(new TypeError('x is not a function')), 'model.onnx');
  assert.equal(other.message, 'model.onnx: QC gradient shard: x is not a function');
});
