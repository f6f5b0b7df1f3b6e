import type { MapResult } from '../../core/jobs/map';
import { ANCHORS_HELP, type Command, engineOf, num, str, UsageError } from '../command';

export const map: Command = {
  name: 'map',
  summary: 'run an ONNX model over a data set on the best local engine and score its COCO mAP',
  usage: 'MODEL.onnx --data DATASET [--engine auto|cpu|webgpu|cuda] [--limit N] [--anchors W,H,.../...] [--json FILE] [--dt FILE]\n       CHECKPOINT.pt --onnx MODEL.onnx --data DATASET [...]',
  help: [
    '  --data PATH    COCO (instances JSON + images) or YOLO (data.yaml) data set, or a folder holding one',
    '  --split NAME   data set split (default val)',
    '  --engine E     auto (default: cuda, else webgpu, else cpu), cpu, webgpu or cuda',
    '  --limit N      score only the first N images',
    '  --batch N      images per inference call where the model allows (default 8)',
    '  --onnx FILE    the ONNX export to run for a PyTorch checkpoint (checked against it)',
    ANCHORS_HELP,
    '  --json FILE    write the report as JSON',
    '  --dt FILE      also write the detections in COCO results format',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    split: { type: 'string' },
    engine: { type: 'string' },
    limit: { type: 'string' },
    batch: { type: 'string' },
    onnx: { type: 'string' },
    json: { type: 'string' },
    dt: { type: 'string' },
    anchors: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  inputs: (v, pos) => [pos[0]!, str(v, 'data')!, ...(str(v, 'onnx') ? [str(v, 'onnx')!] : [])],
  request: (v, pos) => {
    const data = str(v, 'data');
    if (!data) throw new UsageError('--data is required');
    return {
      kind: 'map',
      params: {
        model: pos[0]!,
        data,
        split: str(v, 'split'),
        engine: engineOf(v),
        limit: num(v, 'limit', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        batch: num(v, 'batch', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        onnx: str(v, 'onnx'),
        anchors: str(v, 'anchors'),
        jsonOut: str(v, 'json'),
        dtOut: str(v, 'dt'),
      },
    };
  },
  print: (r, out) => {
    for (const line of formatMap(r as MapResult)) out(line);
  },
};

const ms = (x: number) => `${x.toFixed(0)} ms`;

/** The readable report: engine, data, pycocotools' summary, per-class AP, timings. */
export function formatMap(r: MapResult): string[] {
  const lines: string[] = [];
  lines.push(`model   ${r.model}${r.checkpoint ? ` (ONNX export of ${r.checkpoint})` : ''}`);
  if (r.pairingNote) lines.push(`        note: ${r.pairingNote}`);
  lines.push(`engine  ${r.engine}  (${r.engineNote})`);
  lines.push(
    `data    ${r.data} [${r.split}]: ${r.images} images, ${r.detections} detections; input ${r.input.width}x${r.input.height}, batch ${r.input.batch}, ${r.head.family ?? r.head.layout} head, ${r.head.classes} classes`,
  );
  lines.push(`head    ${r.head.summary ?? r.head.note ?? `${r.head.layout} output layout (head not analysed)`}`);
  lines.push('');
  lines.push(r.summaryText);
  lines.push('');
  const cats = Object.entries(r.perCategory);
  if (cats.length) {
    const w = Math.max(5, ...cats.map(([, c]) => c.name.length));
    lines.push(`${'class'.padEnd(w)}  AP50     AP50:95`);
    const f = (x: number) => (x < 0 ? '   -   ' : x.toFixed(4).padStart(7));
    for (const [, c] of cats) lines.push(`${c.name.padEnd(w)}  ${f(c.ap50)}  ${f(c.ap)}`);
    lines.push('');
  }
  const t = r.timings;
  lines.push(
    `time    total ${ms(t.totalMs)} (${(r.images / (t.totalMs / 1000)).toFixed(1)} images/s): session ${ms(t.sessionMs)}, decode ${ms(t.decodeMs)} (overlapped), inference ${ms(t.inferenceMs)}, NMS ${ms(t.nmsMs)}`,
  );
  for (const w of r.warnings) lines.push(`warning ${w}`);
  lines.push(`mAP@.5:.95 ${r.stats[0].toFixed(4)}   mAP@.5 ${r.stats[1].toFixed(4)}`);
  return lines;
}
