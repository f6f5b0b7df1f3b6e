// Benchmark: a QDQ model vs its float fake-quant rewrite vs the plain float graph, per engine
// (bare session.run, batch 1), and how close each engine's rewrite output is to the QDQ graph on
// the CPU engine (max |diff| of the raw head, and whether NMS keeps the same detections).
// The float graph is the rewrite with each activation fake-quant chain bypassed: same convs, same
// (dequantized) weights, no quantization: the speed the rewrite should approach.
// Run alone: node --import tsx bench/qdqRewrite.ts MODEL_QDQ.onnx [iterations]
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { type EngineName, openSession } from '../src/core/infer/engine';
import { decodeDetector } from '../src/core/infer/modelInfo';
import { detectLayout } from '../src/core/infer/decode';
import { nonMaxSuppression } from '../src/core/infer/nms';
import { rewriteQdqToFloat } from '../src/core/infer/qdqToFloat';
import { onnx } from '../src/core/onnx/proto';

export interface QdqRewriteBenchRow {
  engine: EngineName;
  variant: 'qdq' | 'rewrite' | 'rewrite-magic' | 'float';
  ms: number;
  maxAbsDiffVsCpuQdq: number;
  sameDetections: boolean;
  detections: number;
}

/** The rewrite with each activation fake-quant chain replaced by an Identity. */
function stripFakeQuant(m: onnx.ModelProto): onnx.ModelProto {
  const nodes: onnx.INodeProto[] = [];
  const chains = new Map<string, { input: string; output?: string }>();
  for (const n of m.graph!.node!) {
    const k = /^(.*)\/fakequant\/(Div|Round|RoundAdd|RoundSub|Add|Clip|Sub|Mul)$/.exec(n.name ?? '');
    if (!k) {
      nodes.push(n);
      continue;
    }
    const c = chains.get(k[1]) ?? { input: n.input![0] };
    if (!chains.has(k[1])) chains.set(k[1], c);
    if (k[2] === 'Mul') nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [c.input], output: [n.output![0]], name: `${k[1]}/nofq` }));
  }
  return onnx.ModelProto.create({ ...m, graph: onnx.GraphProto.create({ ...m.graph, node: nodes }) });
}

export async function benchQdqRewrite(file: string, iterations = 20, log: (s: string) => void = console.log): Promise<QdqRewriteBenchRow[]> {
  const bytes = new Uint8Array(readFileSync(file));
  const { proto, info } = decodeDetector(bytes, file);
  const t0 = performance.now();
  const rw = rewriteQdqToFloat(proto, file);
  const rewriteMs = performance.now() - t0;
  const magic = rewriteQdqToFloat(proto, file, { round: 'magic' }).model;
  const variants = {
    qdq: bytes,
    rewrite: onnx.ModelProto.encode(rw.model).finish(),
    'rewrite-magic': onnx.ModelProto.encode(magic).finish(),
    float: onnx.ModelProto.encode(stripFakeQuant(rw.model)).finish(),
  };
  if (process.env.QATLENS_PLACEMENT) {
    // Which nodes an engine leaves to the CPU (onnxruntime logs placements at verbose level).
    ort.env.logLevel = 'verbose';
    for (const v of ['rewrite', 'rewrite-magic'] as const) {
      log(`== placement of ${v} on ${process.env.QATLENS_PLACEMENT}`);
      const s = await ort.InferenceSession.create(variants[v], {
        executionProviders: [process.env.QATLENS_PLACEMENT],
        logSeverityLevel: 0,
        logVerbosityLevel: 0,
      } as ort.InferenceSession.SessionOptions).catch((e) => e as Error);
      if (!(s instanceof Error)) await s.release();
    }
    ort.env.logLevel = 'warning';
  }
  log(`${file}: rewrite of ${rw.stats.activations} activation Q/DQ pairs and ${rw.stats.weights} weights took ${rewriteMs.toFixed(0)} ms`);
  const H = info.height ?? 640,
    W = info.width ?? 640,
    B = info.batch ?? 1;
  const x = new Float32Array(B * 3 * H * W);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 1000) / 1000;
  const feeds = { [info.input]: new ort.Tensor('float32', x, [B, 3, H, W]) };
  const rows: QdqRewriteBenchRow[] = [];
  let ref: Float32Array | undefined;
  let refDets = '';
  const detKey = (out: ort.Tensor) => {
    const h = detectLayout(out.dims, undefined);
    const d = nonMaxSuppression(out.data as Float32Array, 0, h.anchors, h.classes, h.layout);
    return {
      n: d.count,
      key: Array.from(
        { length: d.count },
        (_, i) =>
          `${d.classes[i]}:${d.boxes
            .subarray(i * 4, i * 4 + 4)
            .map((v) => Math.round(v * 10) / 10)
            .join(',')}`,
      ).join(';'),
    };
  };
  for (const engine of ['cpu', 'webgpu', 'cuda'] as EngineName[]) {
    for (const variant of ['qdq', 'rewrite', 'rewrite-magic', 'float'] as const) {
      // Open the variant itself on the engine (no automatic rewrite: here we compare the graphs).
      const es = await openSession({ original: variants[variant], gpu: () => ({ bytes: variants[variant], rewritten: false }) }, engine).catch((e) => e as Error);
      if (es instanceof Error || es.engine !== engine) {
        if (variant === 'qdq') log(`${engine}: not available (${es instanceof Error ? es.message : es.skipped.find((s) => s.engine === engine)?.reason})`);
        if (!(es instanceof Error)) await es.session.release();
        break;
      }
      let out = (await es.session.run(feeds))[info.output];
      for (let i = 0; i < 3; i++) out = (await es.session.run(feeds))[info.output];
      const t = performance.now();
      for (let i = 0; i < iterations; i++) out = (await es.session.run(feeds))[info.output];
      const ms = (performance.now() - t) / iterations;
      const data = out.data as Float32Array;
      const dk = detKey(out);
      if (!ref) {
        ref = data.slice();
        refDets = dk.key;
      }
      let diff = 0;
      for (let i = 0; i < data.length; i++) diff = Math.max(diff, Math.abs(data[i] - ref[i]));
      const row: QdqRewriteBenchRow = { engine, variant, ms, maxAbsDiffVsCpuQdq: diff, sameDetections: dk.key === refDets, detections: dk.n };
      rows.push(row);
      log(`${engine} ${variant.padEnd(7)} ${ms.toFixed(2).padStart(8)} ms/run   max|diff| vs cpu qdq ${diff.toExponential(2)}   detections ${dk.n} ${row.sameDetections ? 'same' : 'DIFFERENT'}`);
      await es.session.release();
    }
  }
  return rows;
}

if (require.main === module) {
  benchQdqRewrite(process.argv[2] ?? 'test/fixtures/pipeline/qdq.onnx', Number(process.argv[3] ?? 20))
    .then((rows) => {
      if (process.env.OUT) writeFileSync(`${process.env.OUT}/qdq-rewrite.json`, JSON.stringify(rows, null, 1));
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
