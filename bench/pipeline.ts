// Benchmark: images per second of the whole pipeline (decode + letterbox overlapped with
// inference, NMS, mapping back) vs the bare onnxruntime session on the same preprocessed inputs,
// in the same run, per available engine and per model (float and QDQ).
// Models: examples/shapes float.onnx and w4a4/qdq.onnx where they exist, else the test fixtures,
// on the shapes val images (320x320 JPEG).
// Run alone: node --import tsx bench/pipeline.ts
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openDataset, type Dataset } from '../src/core/data/dataset';
import { letterboxInto } from '../src/core/data/letterbox';
import { type EngineName, openSession, probeEngines } from '../src/core/infer/engine';
import { decodeDetector } from '../src/core/infer/modelInfo';
import { detectLayout } from '../src/core/infer/decode';
import { detectDataset } from '../src/core/infer/pipeline';
import { rewriteQdqToFloat } from '../src/core/infer/qdqToFloat';
import { benchQdqRewrite } from './qdqRewrite';
import { onnx } from '../src/core/onnx/proto';
import { readFileSync } from 'node:fs';

const ROOT = join(__dirname, '..');
const SHAPES = process.env.QATLENS_SHAPES ?? join(ROOT, 'examples', 'shapes');

export interface PipelineBenchRow {
  model: string;
  engine: EngineName;
  images: number;
  batch: number;
  input: string;
  /** Whole pipeline, session creation excluded. */
  pipelineImagesPerS: number;
  /** session.run alone over the same letterboxed batches. */
  bareImagesPerS: number;
  /** 1 - pipeline / bare. */
  overhead: number;
  decodeMs: number;
  inferenceMs: number;
  nmsMs: number;
}

function models(): { name: string; file: string }[] {
  // QATLENS_BENCH_MODELS=a.onnx,b.onnx overrides (e.g. YOLOv5n-sized models on a GPU host).
  const env = process.env.QATLENS_BENCH_MODELS;
  if (env) return env.split(',').map((file) => ({ name: file.split('/').pop()!, file }));
  const ex = [
    ['float', join(SHAPES, 'float.onnx')],
    ['w4a4 qdq', join(SHAPES, 'w4a4', 'qdq.onnx')],
  ].filter(([, f]) => existsSync(f));
  if (ex.length) return ex.map(([name, file]) => ({ name: `shapes ${name}`, file }));
  const fix = join(ROOT, 'test', 'fixtures', 'pipeline');
  return [
    { name: 'fixture float (64x64)', file: join(fix, 'float.onnx') },
    { name: 'fixture qdq (64x64)', file: join(fix, 'qdq.onnx') },
  ];
}

async function bare(file: string, engine: EngineName, ds: Dataset, batch: number): Promise<number> {
  const bytes = readFileSync(file);
  const { proto, info } = decodeDetector(bytes, file);
  const H = info.height ?? 640,
    W = info.width ?? 640;
  const b = info.batch ?? batch;
  const es = await openSession(
    { original: bytes, gpu: () => ({ bytes: info.qdq ? onnx.ModelProto.encode(rewriteQdqToFloat(proto, file, { round: 'magic' }).model).finish() : bytes, rewritten: info.qdq }) },
    engine,
  );
  const plane = 3 * H * W;
  const inputs: ort.Tensor[] = [];
  for (let i = 0; i < ds.images.length; i += b) {
    const list = ds.images.slice(i, i + b);
    const n = info.batch === null ? list.length : b;
    const data = new Float32Array(n * plane);
    await Promise.all(list.map((im, k) => letterboxInto(im.file, W, H, data, k * plane)));
    inputs.push(new ort.Tensor('float32', data, [n, 3, H, W]));
  }
  await es.session.run({ [info.input]: inputs[0] }); // warm-up, as the pipeline's first batch is not
  const t = performance.now();
  for (const x of inputs) await es.session.run({ [info.input]: x }, [info.output]);
  const ms = performance.now() - t;
  await es.session.release();
  return (ds.images.length / ms) * 1000;
}

export async function benchPipeline(log: (line: string) => void = console.log): Promise<PipelineBenchRow[]> {
  const rows: PipelineBenchRow[] = [];
  const shapes = await openDataset(join(SHAPES, 'data.yaml'), { split: 'val' });
  for (const m of models()) {
    const { info } = decodeDetector(readFileSync(m.file), m.file);
    // Models with other classes (the fixtures, COCO-80 models) get the shapes images under their
    // own class names: speed only, no scoring.
    const names = info.names ?? Array.from({ length: detectLayout(info.outputDims.map((d) => d ?? 1)).classes }, (_, i) => `class${i}`);
    const ds: Dataset =
      names.length !== shapes.names.length
        ? { ...shapes, names, categoryIds: names.map((_, i) => i + 1), gt: { ...shapes.gt, annotations: [], categories: names.map((name, i) => ({ id: i + 1, name })) } }
        : shapes;
    const engines = await probeEngines({ original: readFileSync(m.file), gpu: () => ({ bytes: readFileSync(m.file), rewritten: false }) });
    for (const e of engines) {
      if (!e.available) {
        log(`${m.name}: ${e.engine} not available (${e.reason})`);
        continue;
      }
      const batch = 8;
      await detectDataset(m.file, { ...ds, images: ds.images.slice(0, 8) }, { engine: e.engine, batch }); // warm-up (JIT, caches)
      const r = await detectDataset(m.file, ds, { engine: e.engine, batch });
      const t = r.run.timings;
      const pipe = (r.run.images.length / (t.totalMs - t.sessionMs)) * 1000;
      const b = await bare(m.file, e.engine, ds, batch);
      const row: PipelineBenchRow = {
        model: m.name,
        engine: e.engine,
        images: r.run.images.length,
        batch: r.run.input.batch,
        input: `${r.run.input.width}x${r.run.input.height}`,
        pipelineImagesPerS: pipe,
        bareImagesPerS: b,
        overhead: 1 - pipe / b,
        decodeMs: t.decodeMs,
        inferenceMs: t.inferenceMs,
        nmsMs: t.nmsMs,
      };
      rows.push(row);
      log(
        `${m.name} on ${e.engine} (${row.input}, batch ${row.batch}, ${row.images} images): pipeline ${pipe.toFixed(1)} images/s, bare session ${b.toFixed(1)} images/s, overhead ${(row.overhead * 100).toFixed(1)}% (decode ${t.decodeMs.toFixed(0)} ms overlapped, inference ${t.inferenceMs.toFixed(0)} ms, NMS ${t.nmsMs.toFixed(0)} ms)`,
      );
    }
  }
  // The QDQ model against its GPU-engine rewrite, bare sessions, on every available engine.
  const qdq = models().find((m) => decodeDetector(readFileSync(m.file), m.file).info.qdq);
  if (qdq) await benchQdqRewrite(qdq.file, 10, log);
  return rows;
}

if (require.main === module)
  benchPipeline().catch((e) => {
    console.error(e);
    process.exit(1);
  });
