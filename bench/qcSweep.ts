// The sweep behind docs/qc.md's table of QC runs (issue 16; not a test, it takes hours on 2 cores):
// QC on the example's W4A4 / W3A3 QDQ models, trained on the large generated shapes set's calib
// split (src/core/data/shapes), the step chosen on its holdout split, scored on its 1000-image val
// split against float and QAT, with the 95% paired bootstrap interval of the share of the gap.
//   node --import tsx bench/qcSweep.ts --bits 4,3 --seeds 0,1,2 --out sweep.jsonl CONFIG ...
//   CONFIG = lr:epochs:batch[:cosine|constant[:fliplr[:hsv|-[:selectEvery]]]], e.g. 1e-3:1:16:cosine:0.5:hsv
// Appends one JSON line per run to --out (a run already there with the same key is skipped, so an
// interrupted sweep resumes), and prints a line per run with the machine's load.
//   node --import tsx bench/qcSweep.ts --table --out sweep.jsonl   prints docs/qc.md's table from the runs
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeScorer, type Scored } from '../src/core/compare/score';
import { quietContext } from '../src/core/context';
import { shapesDataset } from '../src/core/data/shapes/dataset';
import { bootstrapMaps, diffs, gapShares, interval95, resampleCounts } from '../src/core/eval/bootstrap';
import { saveModel } from '../src/core/onnx/proto';
import { YOLOV5_HSV } from '../src/core/qc/augment';
import { runQC } from '../src/core/qc/runQC';

interface Config {
  lr: number;
  epochs: number;
  batch: number;
  schedule: 'constant' | 'cosine';
  fliplr: number;
  hsv: boolean;
  selectEvery?: number;
}

function parseConfig(s: string): Config {
  const [lr, epochs, batch, schedule = 'cosine', fliplr = '0', hsv = '-', selectEvery] = s.split(':');
  if (schedule !== 'cosine' && schedule !== 'constant') throw new Error(`bad schedule in ${s}`);
  return { lr: Number(lr), epochs: Number(epochs), batch: Number(batch), schedule, fliplr: Number(fliplr), hsv: hsv === 'hsv', ...(selectEvery ? { selectEvery: Number(selectEvery) } : {}) };
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const pct = (x: number) => (100 * x).toFixed(2);

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      table: { type: 'boolean' },
      bits: { type: 'string', default: '4,3' },
      seeds: { type: 'string', default: '0' },
      out: { type: 'string', default: 'qc-sweep.jsonl' },
      resamples: { type: 'string', default: '1000' },
    },
  });
  if (values.table) return printTable(values.out!);
  const configs = positionals.map(parseConfig);
  const data = await shapesDataset({}, { ...quietContext(), log: (_l, m) => console.log(m) });
  const score = makeScorer();
  const done = new Set(
    existsSync(values.out!)
      ? readFileSync(values.out!, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { key: string }).key)
      : [],
  );
  const resamples = Number(values.resamples);
  for (const bits of values.bits!.split(',').map(Number)) {
    const qdq = `examples/shapes/w${bits}a${bits}/qdq.onnx`;
    let float: Scored | undefined, qat: Scored | undefined;
    for (const c of configs) {
      for (const seed of values.seeds!.split(',').map(Number)) {
        const key = `w${bits}a${bits} lr=${c.lr} epochs=${c.epochs} batch=${c.batch} ${c.schedule} fliplr=${c.fliplr}${c.hsv ? ' hsv' : ''}${c.selectEvery ? ` every=${c.selectEvery}` : ''} seed=${seed}`;
        if (done.has(key)) continue;
        float ??= await score('examples/shapes/float.onnx', data, {}, quietContext());
        qat ??= await score(qdq, data, {}, quietContext());
        const t0 = performance.now();
        const qc = await runQC(
          qdq,
          {
            data,
            calib: 'calib',
            calibCount: 1e9,
            holdout: 'holdout',
            lr: c.lr,
            epochs: c.epochs,
            batch: c.batch,
            schedule: c.schedule,
            augment: { fliplr: c.fliplr, ...(c.hsv ? { hsv: YOLOV5_HSV } : {}) },
            selectEvery: c.selectEvery,
            seed,
          },
          quietContext(),
        );
        const qcSeconds = (performance.now() - t0) / 1000;
        const file = join(tmpdir(), `qc-sweep-${process.pid}.onnx`);
        await saveModel(qc.model, file, {});
        const after = await score(file, data, {}, quietContext());
        rmSync(file, { force: true });
        const [f, q, a] = bootstrapMaps([float.perImage!, qat.perImage!, after.perImage!], resampleCounts(float.perImage!.images, resamples, 1));
        const gap = float.map - qat.map;
        const row = {
          key,
          bits,
          ...c,
          seed,
          steps: qc.steps,
          images: qc.calib.images,
          heldOut: qc.heldOut,
          float: { map: float.map, map50: float.map50 },
          qat: { map: qat.map, map50: qat.map50 },
          qc: { map: after.map, map50: after.map50 },
          share: (after.map - qat.map) / gap,
          shareCi: interval95(gapShares(a.map, q.map, f.map)),
          change: after.map - qat.map,
          changeCi: interval95(diffs(a.map, q.map)),
          change50: after.map50 - qat.map50,
          change50Ci: interval95(diffs(a.map50, q.map50)),
          qcSeconds,
          totalSeconds: (performance.now() - t0) / 1000,
          device: qc.device,
          load: load(),
        };
        appendFileSync(values.out!, JSON.stringify(row) + '\n');
        console.log(
          `${key}: ${qc.steps} steps (kept ${qc.heldOut?.keptStep}), mAP ${pct(qat.map)} -> ${pct(after.map)} (${pct(row.change)} [${pct(row.changeCi[0])}, ${pct(row.changeCi[1])}]), share ${pct(row.share)}% [${pct(row.shareCi[0])}, ${pct(row.shareCi[1])}], mAP@.5 ${pct(row.change50)}, QC ${qcSeconds.toFixed(0)} s, load ${row.load}`,
        );
      }
    }
  }
}

interface Row {
  key: string;
  bits: number;
  lr: number;
  epochs: number;
  batch: number;
  schedule: string;
  fliplr: number;
  hsv?: boolean;
  seed: number;
  steps: number;
  images: number;
  heldOut?: { keptStep: number };
  share: number;
  shareCi: [number, number];
  change: number;
  changeCi: [number, number];
  change50: number;
  change50Ci: [number, number];
  qcSeconds: number;
  totalSeconds: number;
  load: string;
  qat: { map: number };
  float: { map: number };
}

/** One markdown row per configuration: mean and range over its seeds, each seed's interval. */
function printTable(file: string): void {
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = r.key.replace(/ seed=\d+$/, '');
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const p1 = (x: number) => (100 * x).toFixed(1);
  const p2 = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`;
  console.log(
    '| model | lr | epochs × images (steps × batch) | augment | seeds | share of the gap: mean (min–max) | each seed: share [95% CI] | Δ mAP@.5:.95, points | Δ mAP@.5, points | step kept | QC wall time (load) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [, g] of [...groups].sort(([, a], [, b]) => b[0].bits - a[0].bits || a[0].lr - b[0].lr)) {
    const r = g[0];
    const shares = g.map((x) => x.share);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const aug = [r.fliplr ? `flip ${r.fliplr}` : '', r.hsv ? 'HSV' : ''].filter(Boolean).join(' + ') || '—';
    console.log(
      `| W${r.bits}A${r.bits} | ${r.lr} ${r.schedule} | ${r.epochs} × ${r.images} (${r.steps} × ${r.batch}) | ${aug} | ${g.map((x) => x.seed).join(', ')} | ${p1(mean(shares))}% (${p1(Math.min(...shares))}–${p1(Math.max(...shares))}) | ${g
        .map((x) => `${p1(x.share)}% [${p1(x.shareCi[0])}, ${p1(x.shareCi[1])}]`)
        .join(
          '; ',
        )} | ${g.map((x) => p2(x.change)).join(', ')} | ${g.map((x) => p2(x.change50)).join(', ')} | ${g.map((x) => x.heldOut?.keptStep ?? '-').join(', ')} | ${g.map((x) => `${x.qcSeconds.toFixed(0)} s (${x.load.split(' ')[0]})`).join(', ')} |`,
    );
  }
  const r = rows[0];
  if (r)
    console.log(
      `\nfloat mAP@.5:.95 ${p1(r.float.map)}, QAT W4A4/W3A3: ${[4, 3]
        .map((b) => rows.find((x) => x.bits === b)?.qat.map)
        .map((m) => (m === undefined ? '-' : p1(m)))
        .join(' / ')} (1000 generated val images)`,
    );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
