// The detection head of a YOLO graph, found by what its decode computes: the raw Detect conv outputs
// (one per scale), the family (anchor-based YOLOv5/YOLOv7 or anchor-free YOLOv8/YOLO11), classes,
// strides and anchors. The decode sub-graph (raw heads -> decoded output) is cut out and evaluated with
// onnxruntime on known head values: at 0, σ = 0.5 gives wh = anchor in both the YOLOv5 form
// ((2σ)²·anchor_grid) and the YOLOv7 form (σ²·(4·anchor_grid)), and xy = (cell + 0.5)·stride; a marker
// value per head and anchor maps output rows to scales. Nothing depends on one operand's position.
import * as ort from 'onnxruntime-node';
import { engineError, firstLine, QatLensError } from '../errors';
import { GraphIndex } from '../onnx/graph';
import { DataType, onnx, tensorToFloat64 } from '../onnx/proto';
import { formatAnchors } from './headText';
import type { DetectHeads, GivenAnchors, HeadFamily } from './headTypes';

export { describeHeads, formatAnchors } from './headText';

export type { DetectHeads, GivenAnchors, HeadFamily } from './headTypes';

type Node = onnx.INodeProto;
/** Ops whose outputs are not image data (shape arithmetic, indices) even when their input is. */
const NOT_DATA = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'Cast', 'TopK', 'NonMaxSuppression']);

/** The graph index plus what head discovery needs: the image inputs and the values computed from them. */
class GraphView extends GraphIndex {
  readonly inputs: string[];
  /** Float values computed from the image (not shape arithmetic): the only ones worth asking shapes of. */
  readonly data = new Set<string>();
  constructor(g: onnx.IGraphProto) {
    super(g);
    this.inputs = (g.input ?? []).map((i) => i.name!).filter((n) => !this.initializers.has(n));
    for (const i of this.inputs) this.data.add(i);
    for (const n of this.nodes) {
      if (NOT_DATA.has(n.opType ?? '') || !(n.input ?? []).some((i) => this.data.has(i))) continue;
      for (const o of n.output ?? []) if (o) this.data.add(o);
    }
  }
  isConst(v: string): boolean {
    return this.constant(v) !== undefined;
  }
  /** The float constant behind a value (initializer, Constant node, or Identity of one), where it is one. */
  constValues(v: string): number[] | undefined {
    const t = this.constant(v);
    return t && t.dataType === DataType.FLOAT ? Array.from(tensorToFloat64(t)) : undefined;
  }
}

/**
 * Depth-first from `starts` back through the producers (a Shape node ends a path). `next` names the
 * values to follow from a node; undefined follows its image-data inputs.
 */
function walkBack(gv: GraphView, starts: string[], next: (p: Node) => string[] | undefined): void {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = gv.producer.get(v);
    if (!p || p.opType === 'Shape') continue;
    stack.push(...(next(p) ?? (p.input ?? []).filter((i) => gv.data.has(i))));
  }
}

function withOutputs(model: onnx.IModelProto, names: string[]): Uint8Array {
  const g = model.graph!;
  const have = new Set((g.output ?? []).map((o) => o.name));
  const extra = names.filter((n) => !have.has(n)).map((name) => ({ name, type: { tensorType: { elemType: 1 } } }));
  const m = { ...model, graph: { ...g, output: [...(g.output ?? []), ...extra] } };
  return onnx.ModelProto.encode(m as onnx.IModelProto).finish();
}

async function runModel(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, outputs: string[]): Promise<Record<string, ort.Tensor>> {
  // Fatal-only logging: a refusal reaches the user once, as one line naming the model.
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 4 });
  try {
    return await s.run(feeds, outputs);
  } finally {
    await s.release().catch(() => {});
  }
}

/** A Conv with a constant [1, c, 1, 1] float weight fed by a Softmax: YOLOv8's DFL expectation. */
function isDfl(gv: GraphView, conv: Node): boolean {
  if (conv.opType !== 'Conv' || !gv.isConst(conv.input?.[1] ?? '')) return false;
  let v = conv.input![0];
  for (let hop = 0; hop < 3; hop++) {
    const p = gv.producer.get(v);
    if (!p) return false;
    if (p.opType === 'Softmax') return true;
    v = p.input?.[0] ?? '';
  }
  return false;
}

/** Nodes needed to compute `outputs` from `stops` (and constants), in graph order; graph inputs reached. */
function slice(gv: GraphView, outputs: string[], stops: Set<string>): { nodes: Node[]; reachedInputs: string[] } {
  const keep = new Set<Node>();
  const reached = new Set<string>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || !v) continue;
    seen.add(v);
    if (stops.has(v) || gv.initializers.has(v)) continue;
    const p = gv.producer.get(v);
    if (!p) {
      if (gv.inputs.includes(v)) reached.add(v);
      continue;
    }
    keep.add(p);
    stack.push(...(p.input ?? []));
  }
  return { nodes: (gv.nodes ?? []).filter((n) => keep.has(n)), reachedInputs: [...reached] };
}

/**
 * Find the heads of a detector graph. `imgsz` [H, W] is the input size to probe at (the model's own
 * where fixed). `given` anchors are checked against the decode's, and are required for raw exports.
 */
export async function findDetectHeads(model: onnx.IModelProto, file: string, imgsz: [number, number], given?: GivenAnchors): Promise<DetectHeads> {
  const g = model.graph!;
  const gv = new GraphView(g);
  const image = gv.inputs.find((n) => (g.input ?? []).find((i) => i.name === n)?.type?.tensorType?.shape?.dim?.length === 4);
  if (!image) throw new QatLensError('no image input of shape [batch, 3, height, width]', file, 'EHEAD');
  const [H, W] = imgsz;
  const outNames = (g.output ?? []).map((o) => o.name!);

  // 1. Shapes of the graph outputs and of every Reshape's data input behind them, from one forward pass.
  const reshapes: Node[] = [];
  walkBack(gv, outNames, (p) => {
    if (p.opType !== 'Reshape') return undefined;
    if (gv.data.has(p.input![0])) reshapes.push(p);
    return [p.input![0]];
  });
  const probeNames = [...new Set([...outNames.filter((o) => gv.data.has(o)), ...reshapes.map((r) => r.input![0])])];
  let shapes: Map<string, number[]>;
  try {
    const res = await runModel(withOutputs(model, probeNames), { [image]: new ort.Tensor('float32', new Float32Array(3 * H * W), [1, 3, H, W]) }, probeNames);
    shapes = new Map(Object.entries(res).map(([k, t]) => [k, [...t.dims]]));
  } catch (err) {
    const e = engineError(err, file);
    if (!(e instanceof QatLensError) || e.code !== 'EENGINE') throw e; // cancelled, out of memory, or already ours
    // onnxruntime's refusal, in one line naming the model (as every engine error reads).
    throw new QatLensError(`cannot run the model at ${H}x${W} to find its detection head: onnxruntime: ${firstLine(err instanceof Error ? err.message : String(err))}`, file, 'EHEAD');
  }

  // 2. Walk back from the outputs: a Reshape of a 4-D value ends the decode; that value is a head
  //    (unless it is the DFL's expectation conv, which belongs to the decode).
  const headsOf = (out: string): string[] => {
    const found: string[] = [];
    walkBack(gv, [out], (p) => {
      if (p.opType !== 'Reshape') return undefined;
      const d = p.input![0];
      const prod = gv.producer.get(d);
      if (shapes.get(d)?.length === 4 && !(prod && isDfl(gv, prod))) {
        if (!found.includes(d)) found.push(d);
        return [];
      }
      return [d];
    });
    return found;
  };
  const dims = (v: string) => shapes.get(v) ?? [];
  const decoded = outNames.filter((o) => dims(o).length === 3);
  const raw5 = outNames.filter((o) => dims(o).length === 5);
  let output: string | undefined,
    heads: string[] = [],
    rawOutputs: string[] | undefined;
  for (const o of decoded) {
    const h = headsOf(o);
    if (h.length) {
      output = o;
      heads = h;
      break;
    }
  }
  if (!output && raw5.length) {
    const pairs = raw5.map((o) => ({ o, h: headsOf(o) })).filter((p) => p.h.length === 1);
    if (pairs.length) {
      heads = pairs.map((p) => p.h[0]);
      rawOutputs = pairs.map((p) => p.o);
    }
  }
  if (!heads.length) {
    throw new QatLensError(
      `no YOLO detection head found: expected a decoded output [batch, anchors, 5+classes] (YOLOv5/v7) or [batch, 4+classes, anchors] (YOLOv8/YOLO11) computed from per-scale Detect convs, or raw [batch, anchors, ny, nx, 5+classes] outputs (outputs: ${outNames.map((o) => `${o} [${dims(o).join(', ')}]`).join('; ')})`,
      file,
      'EHEAD',
    );
  }
  const order = heads.map((h, i) => ({ h, i, ny: dims(h)[2], nx: dims(h)[3], c: dims(h)[1] })).sort((a, b) => b.ny * b.nx - a.ny * a.nx);
  heads = order.map((o) => o.h);
  if (rawOutputs) rawOutputs = order.map((o) => rawOutputs![o.i]);
  const grids = order.map((o) => [o.ny, o.nx] as [number, number]);
  const C = order.map((o) => o.c);

  // 3. Raw export: shapes give na, classes and strides; anchors must come from elsewhere.
  if (rawOutputs) {
    const [, na, , , no] = dims(rawOutputs[0]);
    if (rawOutputs.some((o) => dims(o)[1] !== na || dims(o)[4] !== no))
      throw new QatLensError(`raw detection outputs disagree on anchors or channels (${rawOutputs.map((o) => `[${dims(o).join(', ')}]`).join(', ')})`, file, 'EHEAD');
    const strides = grids.map(([ny, nx]) => strideOf(H, W, ny, nx, file));
    if (!given) {
      throw new QatLensError(
        `the model outputs raw detection heads (${heads.length} scales of [batch, ${na}, ny, nx, ${no}], no decode), so the anchors are not in the graph: give them with --anchors W,H,W,H,.../W,H,.../... (pixels, one group per scale, smallest stride first) or --anchors MODEL.yaml, the qatLens.anchors setting, an anchors: entry in the data set's yaml, or the paired checkpoint (CHECKPOINT.pt --onnx MODEL.onnx)`,
        file,
        'EANCHORS',
      );
    }
    checkGiven(given, heads.length, na, file);
    return {
      family: 'yolov5/v7',
      anchorFree: false,
      outputs: heads,
      grids,
      strides,
      anchors: given.anchors,
      na,
      nc: no - 5,
      no,
      decode: 'none',
      rawOutputs,
      anchorSource: given.source,
      imgsz,
    };
  }

  // 4. A decoding graph: cut the decode sub-graph at the heads and evaluate it.
  const od = dims(output!);
  const cells = grids.map(([ny, nx]) => ny * nx);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const K = od[2];
  const anchorBased = C.every((c) => c % K === 0) && sum(cells.map((n, i) => n * (C[i] / K))) === od[1] && K > 5;
  const nc8 = od[1] - 4;
  const anchorFree = !anchorBased && sum(cells) === od[2] && C.every((c) => (c - nc8) % 4 === 0 && c - nc8 >= 4);
  if (!anchorBased && !anchorFree) {
    throw new QatLensError(
      `output '${output}' [${od.join(', ')}] does not match its ${heads.length} head convs (${C.join(', ')} channels at ${grids.map((g) => g.join('x')).join(', ')}) as a YOLOv5/v7 or YOLOv8 decode`,
      file,
      'EHEAD',
    );
  }
  const { nodes, reachedInputs } = slice(gv, [output!], new Set(heads));
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const sub: onnx.IModelProto = {
    ...model,
    metadataProps: [],
    graph: {
      name: 'decode',
      node: nodes,
      initializer: (g.initializer ?? []).filter((t) => used.has(t.name!)),
      input: [
        ...heads.map((h, i) => ({ name: h, type: { tensorType: { elemType: 1, shape: { dim: [1, C[i], ...grids[i]].map((d) => ({ dimValue: d })) } } } })),
        ...(g.input ?? []).filter((i) => reachedInputs.includes(i.name!)),
      ],
      output: [{ name: output!, type: { tensorType: { elemType: 1 } } }],
    },
  };
  const subBytes = onnx.ModelProto.encode(sub).finish();
  const evalDecode = async (fill: (head: number, data: Float32Array) => void): Promise<Float32Array> => {
    const feeds: Record<string, ort.Tensor> = {};
    heads.forEach((h, i) => {
      const data = new Float32Array(C[i] * cells[i]);
      fill(i, data);
      feeds[h] = new ort.Tensor('float32', data, [1, C[i], ...grids[i]]);
    });
    for (const inp of reachedInputs) feeds[inp] = new ort.Tensor('float32', new Float32Array(3 * H * W), [1, 3, H, W]);
    try {
      return (await runModel(subBytes, feeds, [output!]))[output!].data as Float32Array;
    } catch (err) {
      throw new QatLensError(`cannot evaluate the decode of output '${output}' on its own: ${(err as Error).message.split('\n')[0]}`, file, 'EHEAD');
    }
  };
  const close = (a: number, b: number, rel = 1e-3) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));
  const strideCheck = (i: number, s: number) => {
    const expect = strideOf(H, W, ...grids[i], file);
    if (!close(s, expect)) throw new QatLensError(`the decode places cells of head ${i} (${grids[i].join('x')}) at stride ${s}, but the input ${H}x${W} gives stride ${expect}`, file, 'EHEAD');
    return expect;
  };

  if (anchorFree) {
    const nc = nc8,
      regMax = (C[0] - nc) / 4,
      N = od[2];
    if (C.some((c) => c !== C[0])) throw new QatLensError(`anchor-free heads disagree on channels (${C.join(', ')})`, file, 'EHEAD');
    const at = (d: Float32Array, k: number, j: number) => d[k * N + j];
    const zero = await evalDecode(() => {});
    const mark = await evalDecode((i, d) => d.fill((i + 1) * 0.5, 4 * regMax * cells[i]));
    const far = await evalDecode((i, d) => {
      for (let k = 0; k < 4; k++) d.fill(30, (k * regMax + regMax - 1) * cells[i], (k * regMax + regMax) * cells[i]);
    });
    const strides: number[] = [];
    for (let i = 0; i < heads.length; i++) {
      const want = 1 / (1 + Math.exp(-(i + 1) * 0.5));
      const cols = [...Array(N).keys()].filter((j) => close(at(mark, 4, j), want, 1e-4));
      if (cols.length !== cells[i])
        throw new QatLensError(
          `the decode of output '${output}' does not map head ${i} (${grids[i].join('x')}) to ${cells[i]} columns of class scores (found ${cols.length}): not a YOLOv8 decode`,
          file,
          'EHEAD',
        );
      const s = at(zero, 2, cols[0]) / (regMax - 1);
      for (const j of cols) {
        const ok = close(at(zero, 2, j), (regMax - 1) * s) && close(at(zero, 3, j), (regMax - 1) * s) && close(at(far, 2, j), 2 * (regMax - 1) * s) && close(at(zero, 4, j), 0.5, 1e-4);
        if (!ok)
          throw new QatLensError(
            `the decode of output '${output}' does not compute YOLOv8's boxes (DFL expectation over ${regMax} bins times the stride): at uniform bins w = ${at(zero, 2, j)}, expected ${(regMax - 1) * s}`,
            file,
            'EHEAD',
          );
      }
      strides.push(strideCheck(i, s));
    }
    return { family: 'yolov8', anchorFree: true, outputs: heads, grids, strides, anchors: [], na: 1, nc, no: C[0], regMax, decode: 'graph', output, anchorSource: 'none (anchor-free)', imgsz };
  }

  // Anchor-based: rows [x, y, w, h, obj, classes...].
  const na = C[0] / K,
    no = K,
    N = od[1];
  if (C.some((c) => c !== C[0])) throw new QatLensError(`detection heads disagree on channels (${C.join(', ')})`, file, 'EHEAD');
  const row = (d: Float32Array, r: number, k: number) => d[r * no + k];
  const markerOf = (i: number, a: number) => 0.25 + 0.125 * (i * na + a);
  const zero = await evalDecode(() => {});
  const mark = await evalDecode((i, d) => {
    for (let a = 0; a < na; a++) d.fill(markerOf(i, a), a * no * cells[i], (a + 1) * no * cells[i]);
  });
  const t75 = Math.log(3); // σ = 0.75
  const check = await evalDecode((_, d) => d.fill(t75));
  const byMarker = new Map<number, number[]>();
  for (let r = 0; r < N; r++) {
    const obj = row(mark, r, 4);
    for (let i = 0; i < heads.length; i++)
      for (let a = 0; a < na; a++) {
        if (close(obj, 1 / (1 + Math.exp(-markerOf(i, a))), 1e-5)) {
          const k = i * na + a;
          byMarker.set(k, [...(byMarker.get(k) ?? []), r]);
        }
      }
  }
  const anchors: number[][] = [],
    strides: number[] = [];
  for (let i = 0; i < heads.length; i++) {
    const group: number[] = [];
    let s = 0;
    for (let a = 0; a < na; a++) {
      const rows = byMarker.get(i * na + a) ?? [];
      if (rows.length !== cells[i])
        throw new QatLensError(
          `the decode of output '${output}' does not map anchor ${a} of head ${i} (${grids[i].join('x')}) to ${cells[i]} rows (found ${rows.length}): not a YOLOv5/v7 decode`,
          file,
          'EHEAD',
        );
      const w = row(zero, rows[0], 2),
        h = row(zero, rows[0], 3);
      s = 2 * Math.min(...rows.map((r) => row(zero, r, 0)));
      for (const r of rows) {
        if (!close(row(zero, r, 2), w) || !close(row(zero, r, 3), h))
          throw new QatLensError(`the decode of output '${output}' gives anchor ${a} of head ${i} different sizes in different cells`, file, 'EHEAD');
        const rw = row(check, r, 2) / w,
          rh = row(check, r, 3) / h;
        if (!close(rw, 2.25) || !close(rh, 2.25)) {
          throw new QatLensError(
            `the decode of output '${output}' does not compute YOLOv5/YOLOv7's box size (2σ)²·anchor: at σ = 0.75 it gives ${rw.toFixed(4)}·anchor, expected 2.25·anchor`,
            file,
            'EHEAD',
          );
        }
        const cx = row(zero, r, 0) / s - 0.5;
        if (!close(row(check, r, 0), (cx + 1) * s)) throw new QatLensError(`the decode of output '${output}' does not compute YOLOv5/YOLOv7's box centre (2σ - 0.5 + cell)·stride`, file, 'EHEAD');
      }
      group.push(w, h);
    }
    anchors.push(group);
    strides.push(strideCheck(i, s));
  }
  const decodeAnchors = anchors.map((g) => g.map((v) => Math.round(v * 1e4) / 1e4));
  if (given) {
    checkGiven(given, heads.length, na, file);
    const same = given.anchors.every((gr, i) => gr.every((v, j) => close(v, decodeAnchors[i][j])));
    if (!same) {
      throw new QatLensError(
        `the anchors the graph's decode computes (${formatAnchors(decodeAnchors)}) disagree with those from ${given.source} (${formatAnchors(given.anchors)}); remove the given anchors or fix them`,
        file,
        'EANCHORS',
      );
    }
  }
  return {
    family: familyOfDecode(gv, nodes),
    anchorFree: false,
    outputs: heads,
    grids,
    strides,
    anchors: decodeAnchors,
    na,
    nc: no - 5,
    no,
    decode: 'graph',
    output,
    anchorSource: `the graph's decode, evaluated${given ? `; agrees with ${given.source}` : ''}`,
    imgsz,
  };
}

function strideOf(H: number, W: number, ny: number, nx: number, file: string): number {
  const s = H / ny;
  if (!Number.isInteger(s) || W / nx !== s) throw new QatLensError(`a head of ${ny}x${nx} cells does not divide the ${H}x${W} input into one stride`, file, 'EHEAD');
  return s;
}

function checkGiven(given: GivenAnchors, nl: number, na: number, file: string): void {
  if (given.anchors.length !== nl || given.anchors.some((g) => g.length !== 2 * na)) {
    throw new QatLensError(
      `the anchors from ${given.source} (${formatAnchors(given.anchors)}) do not fit the model's ${nl} heads of ${na} anchors each (expected ${nl} groups of ${2 * na} numbers)`,
      file,
      'EANCHORS',
    );
  }
}

/**
 * YOLOv5 squares 2σ (Mul by 2, then Pow); YOLOv7's export squares σ and multiplies by 4·anchor_grid.
 * Both compute the same boxes; the graph's own arithmetic tells them apart.
 */
function familyOfDecode(gv: GraphView, nodes: Node[]): HeadFamily {
  // The square: Pow(x, 2), or Mul(x, x).
  const square = nodes.find((n) => n.opType === 'Pow' || (n.opType === 'Mul' && n.input![0] === n.input![1]));
  if (!square) return 'yolov5/v7';
  const base = gv.producer.get(square.input![0]);
  if (base?.opType === 'Mul' && base.input!.some((i) => gv.constValues(i)?.every((v) => v === 2))) return 'yolov5';
  return 'yolov7';
}
