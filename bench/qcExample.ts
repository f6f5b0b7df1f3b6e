// The long QC measurement on the bundled example (not a test): mAP of float, QAT and QC on the val
// split, the share of the float -> QAT gap that QC recovers, for one or more (steps, batch, lr).
//   node --import tsx bench/qcExample.ts [w4a4|w3a3] [steps:batch:lr ...]
//   e.g. node --import tsx bench/qcExample.ts w4a4 100:16:1e-3 100:16:1e-4
// Writes /tmp/qc-example-<bits>.json with every run's loss curve and per-layer γ/β summary.
import { writeFileSync } from 'node:fs';
import { makeScorer } from '../src/core/compare/score';
import { quietContext } from '../src/core/context';
import { runCorrect } from '../src/core/jobs/correct';

async function main(): Promise<void> {
  const bits = process.argv[2] ?? 'w4a4';
  const configs = (process.argv.slice(3).length ? process.argv.slice(3) : ['100:16:1e-3']).map((c) => {
    const [steps, batch, lr] = c.split(':').map(Number);
    return { steps, batch, lr };
  });
  const data = 'examples/shapes';
  const qdq = `examples/shapes/${bits}/qdq.onnx`;
  const score = makeScorer();
  const ctx = { ...quietContext(), log: (_l: string, m: string) => console.log(`  ${m}`) };
  const float = await score('examples/shapes/float.onnx', data, {}, quietContext());
  const qat = await score(qdq, data, {}, quietContext());
  const gap = float.map! - qat.map!;
  console.log(`float mAP@.5:.95 ${(100 * float.map!).toFixed(2)}, QAT ${bits} ${(100 * qat.map!).toFixed(2)} (gap ${(100 * gap).toFixed(2)} points)`);
  const runs = [];
  for (const c of configs) {
    const t0 = performance.now();
    const out = `/tmp/qc-example-${bits}-${c.steps}-${c.batch}-${c.lr}.onnx`;
    const r = await runCorrect(
      { model: qdq, data, calib: 'calib', steps: c.steps, batch: c.batch, lr: c.lr, out, evaluate: false },
      {
        ...ctx,
        progress: (p) => {
          if (p.metrics?.step && p.metrics.step % 20 === 0) console.log(`  step ${p.metrics.step}: loss ${p.metrics.loss?.toFixed(4)}`);
        },
      },
    );
    const after = await score(out, data, {}, quietContext());
    const recovered = gap > 0 ? (after.map! - qat.map!) / gap : NaN;
    const k = Math.min(10, r.lossCurve.length);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(
      `QC steps ${c.steps} batch ${c.batch} lr ${c.lr}: mAP ${(100 * after.map!).toFixed(2)} (${after.map! >= qat.map! ? '+' : ''}${(100 * (after.map! - qat.map!)).toFixed(2)}), mAP@.5 ${(100 * qat.map50!).toFixed(2)} -> ${(100 * after.map50!).toFixed(2)}, gap recovered ${(100 * recovered).toFixed(1)}%, loss (mean of first/last ${k}) ${mean(r.lossCurve.slice(0, k)).toFixed(4)} -> ${mean(r.lossCurve.slice(-k)).toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(0)} s on ${r.device}`,
    );
    runs.push({ ...c, map: after.map, map50: after.map50, recovered, lossCurve: r.lossCurve, perLayer: r.perLayer, seconds: (performance.now() - t0) / 1000, device: r.device });
  }
  writeFileSync(`/tmp/qc-example-${bits}.json`, JSON.stringify({ bits, float: { map: float.map, map50: float.map50 }, qat: { map: qat.map, map50: qat.map50 }, runs }, null, 2));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
