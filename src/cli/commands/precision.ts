import type { PrecisionResult } from '../../core/jobs/precision';
import { type Command, engineOf, num, str, UsageError } from '../command';

const pc = (x: number | undefined) => (x === undefined ? '    —' : (x * 100).toFixed(2).padStart(6));
const dp = (x: number | undefined) => (x === undefined ? '     —' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(2)}`.padStart(6));

export const precision: Command = {
  name: 'precision',
  summary: 'precision plan: which layers to keep at 8 bits, measured in mAP (what-if models from the latent weights)',
  usage: 'MODEL.onnx --data DATASET [--latent CHECKPOINT.pt] [--bits 8] [--activations] [--target-map X | --target-gap X | --budget N] [--out PLAN.onnx] [--json FILE] [--html FILE]',
  help: [
    '  --data PATH          evaluation data set (COCO or YOLO)',
    '  --latent FILE        checkpoint with the latent weights (.pt), for an ONNX that stores integer weights only',
    '  --variant NAME       model or ema weights of --latent (default: whichever reproduces the ONNX integers)',
    '  --bits N             bit-width of the what-if layers (default 8; 2..8)',
    "  --activations        also refine each what-if layer's input activation quantizer to --bits",
    '  --activations-only   refine only the input activation quantizer; the weights stay as they are',
    '  --candidates N|all   layers scored in full after the cheap first pass (default 16)',
    '  --first-pass-images N  evaluation images of the first pass (default 8)',
    '  --float FILE         the float ONNX: the float -> QAT gap, and a better first-pass proxy',
    '  --target-map X       plan: fewest layers reaching mAP@.5:.95 X (0..1, or a percentage above 1)',
    '  --target-gap X       plan: fewest layers recovering share X (0..1) of the float -> QAT gap (needs --float)',
    '  --budget N           plan: best set within N extra bytes',
    '  --layers LIST        score exactly these layers (comma-separated, checkpoint or ONNX names) and re-score them together as the plan',
    '                       (none of these: every layer that raises the re-scored mAP, largest gain first)',
    "  --out FILE           write the plan's what-if ONNX",
    '  --engine E           auto (default), cpu, webgpu or cuda',
    '  --limit N            score only the first N images',
    '  --json FILE          write the report as JSON',
    '  --html FILE          write a self-contained HTML report (table, gain per layer, plan mAP against bytes)',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    latent: { type: 'string' },
    variant: { type: 'string' },
    bits: { type: 'string' },
    activations: { type: 'boolean' },
    'activations-only': { type: 'boolean' },
    candidates: { type: 'string' },
    'first-pass-images': { type: 'string' },
    float: { type: 'string' },
    'target-map': { type: 'string' },
    'target-gap': { type: 'string' },
    budget: { type: 'string' },
    layers: { type: 'string' },
    out: { type: 'string' },
    engine: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'string' },
    html: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  inputs: (v, pos) => [pos[0]!, str(v, 'data')!, ...['latent', 'float'].map((k) => str(v, k)).filter((x): x is string => !!x)],
  request: (v, pos) => {
    const data = str(v, 'data');
    if (!data) throw new UsageError('--data is required');
    const whole = (n: number) => Number.isInteger(n) && n > 0;
    const c = str(v, 'candidates');
    const candidates = c === 'all' ? Number.MAX_SAFE_INTEGER : num(v, 'candidates', whole, 'a positive whole number or "all"');
    const tm = num(v, 'target-map', (n) => n > 0 && n <= 100, 'an mAP in (0, 1] or a percentage in (1, 100]');
    const given = ['target-map', 'target-gap', 'budget', 'layers'].filter((k) => str(v, k) !== undefined);
    if (given.length > 1) throw new UsageError(`give one of --target-map, --target-gap, --budget and --layers, not ${given.map((k) => `--${k}`).join(' and ')}`);
    const layers = str(v, 'layers')
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (layers && !layers.length) throw new UsageError('--layers must name at least one layer');
    if (str(v, 'target-gap') !== undefined && !str(v, 'float')) throw new UsageError('--target-gap needs --float FLOAT.onnx (the float -> QAT gap)');
    return {
      kind: 'precision',
      params: {
        model: pos[0]!,
        data,
        latent: str(v, 'latent'),
        variant: str(v, 'variant'),
        bits: num(v, 'bits', (n) => Number.isInteger(n) && n >= 2 && n <= 8, 'a whole number in [2, 8]'),
        activations: v.activations === true,
        activationsOnly: v['activations-only'] === true,
        candidates,
        firstPassImages: num(v, 'first-pass-images', whole, 'a positive whole number'),
        float: str(v, 'float'),
        targetMap: tm === undefined ? undefined : tm > 1 ? tm / 100 : tm,
        targetGap: num(v, 'target-gap', (n) => n > 0 && n <= 1, 'a share in (0, 1]'),
        layers,
        budget: num(v, 'budget', (n) => Number.isInteger(n) && n >= 0, 'a whole number of bytes'),
        out: str(v, 'out'),
        engine: engineOf(v),
        limit: num(v, 'limit', whole, 'a positive whole number'),
        jsonOut: str(v, 'json'),
        htmlOut: str(v, 'html'),
      },
    };
  },
  print: (res, out) => {
    const { report: r, jsonOut, htmlOut } = res as PrecisionResult;
    out(`Precision plan of ${r.model} on ${r.data}${r.baseline.images ? ` (${r.baseline.images} images, ${r.baseline.engine} engine)` : ''}`);
    out(`latent weights: ${r.latentFrom}; names: ${r.naming}`);
    out(`QAT mAP@.5:.95 ${pc(r.baseline.map).trim()} (mAP@.5 ${pc(r.baseline.map50).trim()})${r.float ? `, float ${pc(r.float.map).trim()} (${pc(r.float.map50).trim()})` : ''}`);
    out(`first pass: ${r.firstPass.method}`);
    out('');
    const w = Math.max(5, ...r.layers.map((l) => l.name.length));
    out(`  ${'layer'.padEnd(w)}  width          bytes  +bytes   MMACs  mAP@.5:.95      Δ  Δ mAP@.5`);
    const rows = [...r.layers].sort((a, b) => (b.gain ?? -Infinity) - (a.gain ?? -Infinity));
    for (const l of rows) {
      const width = `W${l.bits}A${l.actBits ?? '-'}→W${l.toBits}A${l.actToBits ?? '-'}`;
      out(
        `${l.planned ? '✓ ' : '  '}${l.name.padEnd(w)}  ${width.padEnd(12)} ${String(l.bytes).padStart(6)} ${String(l.bytesAdded).padStart(7)} ${(l.macs / 1e6).toFixed(2).padStart(7)}      ${pc(l.map)} ${dp(l.gain)}    ${dp(l.gain50)}`,
      );
    }
    out('');
    for (const f of r.findings) out(f);
    if (r.plan.layers.length) {
      out('');
      out(`plan (${r.naming}), ready to paste:`);
      out(JSON.stringify(r.plan.layers));
    }
    out('');
    for (const l of r.limits) out(`limit: ${l}`);
    for (const n of r.notes) out(`note: ${n}`);
    out(`time: ${r.seconds.toFixed(0)} s, ${r.scored} models scored`);
    if (r.plan.out) out(`what-if model: ${r.plan.out}`);
    if (jsonOut) out(`JSON: ${jsonOut}`);
    if (htmlOut) out(`HTML: ${htmlOut}`);
  },
};
