// A/B: the recompute pair (forward, backward that recomputes the forward) against the keep pair (keep
// forward that also outputs the saved values, gradient-only backward), alternating, same inputs.
//   node --import tsx bench/keepAB.ts [batch] [rounds]
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadModel, onnx } from '../src/core/onnx/proto';
import { buildTrainGraphs } from '../src/core/train/engine';
import { splitKeep } from '../src/core/train/keep';
import { uniform } from '../test/helpers/opGrad';

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main() {
  const B = Number(process.argv[2] ?? 16),
    rounds = Number(process.argv[3] ?? 5);
  const ref = JSON.parse(readFileSync('test/fixtures/train/vjp_reference.json', 'utf8')).example.spec as { file: string; layers: never[]; heads: string[] };
  const tg = await buildTrainGraphs(loadModel(ref.file), ref.file, ref);
  const k = splitKeep(tg.forward, tg.backward);
  const bytes = k.saved.reduce(
    (s, v) =>
      s +
      (tg.shapes
        .get(v.name)
        ?.slice(1)
        .reduce((a, c) => a * c, 1) ?? 0),
    0,
  );
  console.log(
    `saved ${k.saved.length} values (${k.saved.filter((s) => s.elemType !== 1).length} not float), ~${((bytes * 4 * B) / 2 ** 20).toFixed(0)} MiB at batch ${B} if float; fwd nodes ${k.forward.graph!.node!.length}, grad nodes ${k.backward.graph!.node!.length} (recompute backward ${tg.backward.model.graph!.node!.length})`,
  );
  const threads = cpus().length;
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', enableMemPattern: false };
  const enc = (m: onnx.ModelProto) => onnx.ModelProto.encode(m).finish();
  const fwd = await ort.InferenceSession.create(enc(tg.forward.model), opts);
  const bwd = await ort.InferenceSession.create(enc(tg.backward.model), opts);
  const kf = await ort.InferenceSession.create(enc(k.forward), opts);
  const kb = await ort.InferenceSession.create(enc(k.backward), opts);
  const [h, w] = [320, 320];
  const feeds: Record<string, ort.Tensor> = { [tg.forward.input]: new ort.Tensor('float32', uniform(B * 3 * h * w, 1, 0, 1), [B, 3, h, w]) };
  tg.forward.sites.forEach((s, i) => {
    feeds[s.gamma] = new ort.Tensor('float32', uniform(s.layer.channels, 100 + i, 0.9, 1.1), s.paramShape);
    feeds[s.beta] = new ort.Tensor('float32', uniform(s.layer.channels, 900 + i, -0.02, 0.02), s.paramShape);
  });
  const dh: Record<string, ort.Tensor> = {};
  tg.forward.heads.forEach((name, i) => {
    const dims = [B, ...tg.shapes.get(name)!.slice(1)];
    dh[tg.backward.dHeads[i]] = new ort.Tensor(
      'float32',
      uniform(
        dims.reduce((a, c) => a * c, 1),
        5000 + i,
      ),
      dims,
    );
  });
  const want = tg.backward.model.graph!.output!.map((o) => o.name!);
  const kin = new Set(k.backward.graph!.input!.map((i) => i.name!));
  const part: Record<string, number[]> = {};
  const timed = async <T>(name: string, f: () => Promise<T>) => {
    const t0 = performance.now();
    const r = await f();
    (part[name] ??= []).push((performance.now() - t0) / B);
    return r;
  };
  let savedBytes = 0;
  const runA = async () => {
    await timed('A forward', () => fwd.run(feeds, tg.forward.heads));
    return timed('A backward', () => bwd.run({ ...feeds, ...dh }, want));
  };
  const runB = async () => {
    const out = await timed('B keep forward', () => kf.run(feeds, [...tg.forward.heads, ...k.saved.map((s) => s.name).filter((n) => !tg.forward.heads.includes(n))]));
    savedBytes = k.saved.reduce((s, v) => s + (out[v.name]?.data as Float32Array).byteLength, 0);
    const f: Record<string, ort.Tensor> = { ...dh };
    for (const n of kin) if (!f[n]) f[n] = out[n] ?? feeds[n];
    await timed('C keep forward, heads only', () => kf.run(feeds, tg.forward.heads));
    return timed('B gradient', () => kb.run(f, want));
  };
  const a = await runA(),
    b = await runB();
  let worst = 0;
  for (const n of want) {
    const x = a[n].data as Float32Array,
      y = b[n].data as Float32Array;
    let big = 1e-12,
      m = 0;
    for (let i = 0; i < x.length; i++) {
      big = Math.max(big, Math.abs(x[i]));
      m = Math.max(m, Math.abs(x[i] - y[i]));
    }
    worst = Math.max(worst, m / big);
  }
  console.log(`gradients keep vs recompute: worst ${worst.toExponential(2)} of each output's largest`);
  const t: Record<string, number[]> = { recompute: [], keep: [] };
  const c: Record<string, number[]> = { recompute: [], keep: [] };
  for (let r = 0; r < rounds; r++)
    for (const [name, f] of [
      ['recompute', runA],
      ['keep', runB],
    ] as const) {
      const u0 = process.cpuUsage(),
        t0 = performance.now();
      await f();
      const wall = performance.now() - t0,
        u = process.cpuUsage(u0);
      t[name].push(wall / B);
      c[name].push((u.user + u.system) / 1000 / wall);
    }
  console.log(
    `batch ${B}, ${threads} threads, ${rounds} alternating rounds, load ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  for (const n of Object.keys(t)) console.log(`  ${n.padEnd(10)} median ${median(t[n]).toFixed(2)} ms/image (all: ${t[n].map((v) => v.toFixed(1)).join(' ')}; CPU/wall ${median(c[n]).toFixed(2)})`);
  for (const [n, v] of Object.entries(part)) console.log(`  ${n.padEnd(16)} median ${median(v).toFixed(2)} ms/image`);
  console.log(`  saved ${(savedBytes / 2 ** 20).toFixed(0)} MiB per run`);
  console.log(`  keep/recompute ${(median(t.keep) / median(t.recompute)).toFixed(3)}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
void main();
