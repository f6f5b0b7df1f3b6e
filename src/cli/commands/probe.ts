import type { ProbeResult } from '../../core/jobs/probe';
import { compareTable, intervalLines } from '../../core/compare/table';
import { ANCHORS_HELP, BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, bootstrapOf, type Command, engineOf, num, numList, str, UsageError } from '../command';

export const probe: Command = {
  name: 'probe',
  summary: 'soft-rounding probe: mAP with weights soft-rounded at δ, next to hard and latent weights',
  usage: 'MODEL.onnx --data DATASET [--delta 0.05,0.1,0.25] [--pt CHECKPOINT] [--per-layer] [--engine E] [--limit N] [--json FILE]',
  help: [
    '  --data PATH          evaluation data set (COCO or YOLO)',
    '  --delta LIST         soft-rounding thresholds δ (default 0.05,0.1,0.25); δ = 0 (hard) is always scored',
    '  --pt FILE            checkpoint with the latent weights, for an ONNX that stores integer weights only',
    '  --variant NAME       model or ema weights of --pt (default: whichever reproduces the ONNX integers)',
    '  --per-layer          also soft-round one layer at a time and rank layers by the output change',
    '  --layer-delta X      δ of the per-layer probe (default 0.1 if listed, else the largest δ)',
    '  --layer-images N     evaluation images of the per-layer probe (default 4)',
    '  --layers LIST        per-layer probe of only these layers (comma-separated weight names)',
    '  --flagged            per-layer probe of only the layers the oscillation analysis flags (implies --per-layer)',
    '  --layer-map N        also score mAP with one layer soft-rounded, for the N layers that move the outputs most',
    '  --engine E           auto (default), cpu, webgpu or cuda',
    '  --limit N            score only the first N images',
    '  --json FILE          write the report as JSON',
    BOOTSTRAP_HELP,
    ANCHORS_HELP,
  ].join('\n'),
  options: {
    data: { type: 'string' },
    delta: { type: 'string' },
    pt: { type: 'string' },
    variant: { type: 'string' },
    'per-layer': { type: 'boolean' },
    'layer-delta': { type: 'string' },
    'layer-images': { type: 'string' },
    layers: { type: 'string' },
    'layer-map': { type: 'string' },
    flagged: { type: 'boolean' },
    engine: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'string' },
    ...BOOTSTRAP_OPTIONS,
    anchors: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  inputs: (v, pos) => [pos[0]!, str(v, 'data')!, ...(str(v, 'pt') ? [str(v, 'pt')!] : [])],
  request: (v, pos) => {
    const data = str(v, 'data');
    if (!data) throw new UsageError('--data is required');
    const whole = (n: number) => Number.isInteger(n) && n > 0;
    return {
      kind: 'probe',
      params: {
        model: pos[0]!,
        data,
        deltas: numList(v, 'delta', (n) => n >= 0 && n <= 0.5, 'numbers in [0, 0.5]') ?? [0.05, 0.1, 0.25],
        perLayer: v['per-layer'] === true || v.flagged === true,
        flaggedOnly: v.flagged === true,
        pt: str(v, 'pt'),
        variant: str(v, 'variant'),
        perLayerDelta: num(v, 'layer-delta', (n) => n > 0 && n <= 0.5, 'a number in (0, 0.5]'),
        perLayerImages: num(v, 'layer-images', whole, 'a positive whole number'),
        layers: str(v, 'layers')
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        perLayerMap: num(v, 'layer-map', (n) => Number.isInteger(n) && n >= 0, 'a whole number'),
        engine: engineOf(v),
        anchors: str(v, 'anchors'),
        limit: num(v, 'limit', whole, 'a positive whole number'),
        ...bootstrapOf(v),
        jsonOut: str(v, 'json'),
      },
    };
  },
  print: (res, out) => {
    const r = (res as ProbeResult).report;
    out(`Soft-rounding probe of ${r.model} on ${r.data}${r.baseline.images ? ` (${r.baseline.images} images, ${r.baseline.engine} engine)` : ''}`);
    out(`latent weights: ${r.latentFrom}`);
    out('mAP in percent; Δ against the hard (δ=0) row');
    out('');
    for (const l of compareTable([r.baseline, ...r.soft, ...(r.latent ? [r.latent] : [])])) out(l);
    for (const l of intervalLines(res as ProbeResult)) out(l);
    out('');
    for (const f of r.findings) out(f);
    if (r.perLayer) {
      out('');
      out(`per layer, δ=${r.perLayer.delta}, ${r.perLayer.images} images (largest output change first):`);
      for (const [i, l] of r.perLayer.layers.slice(0, 15).entries()) {
        const m = l.map !== undefined ? `  mAP@.5:.95 ${(l.map * 100).toFixed(1)}` : '';
        out(`  ${String(i + 1).padStart(2)}. ${(l.flagged ? '⚑ ' : '') + l.name.padEnd(40)} soft ${String(l.softWeights).padStart(6)}  relative MSE ${l.relativeChange.toExponential(2)}${m}`);
      }
      if (r.perLayer.layers.length > 15) out(`  ... ${r.perLayer.layers.length - 15} more in the JSON`);
    }
    for (const n of r.notes) out(`note: ${n}`);
    if ((res as ProbeResult).jsonOut) out(`JSON: ${(res as ProbeResult).jsonOut}`);
  },
};
