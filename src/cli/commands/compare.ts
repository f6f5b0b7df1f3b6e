import type { CompareResult } from '../../core/jobs/compare';
import { compareSummary } from '../../core/compare/table';
import { ANCHORS_HELP, BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, bootstrapOf, type Command, engineOf, num, numList, str, UsageError } from '../command';

export const compare: Command = {
  name: 'compare',
  summary: 'mAP side by side: float, QAT (hard), soft-round δ, latent weights, QC (table, JSON, HTML)',
  usage: '--data DATASET --qat QAT.onnx [--float FLOAT.onnx] [--latent CHECKPOINT|LATENT.onnx] [--corrected QC.onnx] [--delta LIST] [--bootstrap N] [--seed S] [--json FILE] [--html FILE]',
  help: [
    '  --data PATH      evaluation data set (COCO or YOLO)',
    '  --qat FILE       the QAT model (QDQ ONNX) as deployed',
    '  --float FILE     the float model (ONNX)',
    '  --latent FILE    latent weights for the soft-round and latent variants: a PyTorch checkpoint, or a QDQ',
    '                   ONNX with float weights (Q -> Clip -> DQ); default: the QAT ONNX itself where it has them',
    '  --corrected FILE the QC-corrected model (qat-lens correct --out)',
    '  --delta LIST     soft-rounding thresholds δ (default 0.05,0.1,0.25; empty: none)',
    '  --no-latent      do not score the latent variant',
    '  --engine E       auto (default), cpu, webgpu or cuda',
    '  --limit N        score only the first N images',
    '  --json FILE      write the comparison as JSON',
    '  --html FILE      write a self-contained HTML page (bars and precision/recall curves)',
    BOOTSTRAP_HELP,
    ANCHORS_HELP,
  ].join('\n'),
  options: {
    data: { type: 'string' },
    qat: { type: 'string' },
    float: { type: 'string' },
    latent: { type: 'string' },
    corrected: { type: 'string' },
    delta: { type: 'string' },
    'no-latent': { type: 'boolean' },
    engine: { type: 'string' },
    limit: { type: 'string' },
    ...BOOTSTRAP_OPTIONS,
    json: { type: 'string' },
    html: { type: 'string' },
    anchors: { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  inputs: (v) => ['data', 'qat', 'float', 'latent', 'corrected'].map((k) => str(v, k)).filter((x): x is string => !!x),
  request: (v) => {
    const data = str(v, 'data'),
      qat = str(v, 'qat');
    if (!data) throw new UsageError('--data is required');
    if (!qat) throw new UsageError('--qat is required');
    const d = str(v, 'delta');
    return {
      kind: 'compare',
      params: {
        data,
        qat,
        float: str(v, 'float'),
        latent: str(v, 'latent'),
        corrected: str(v, 'corrected'),
        deltas: d !== undefined && d.trim() === '' ? [] : numList(v, 'delta', (n) => n >= 0 && n <= 0.5, 'numbers in [0, 0.5]'),
        latentVariant: v['no-latent'] === true ? false : undefined,
        engine: engineOf(v),
        anchors: str(v, 'anchors'),
        limit: num(v, 'limit', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        ...bootstrapOf(v),
        jsonOut: str(v, 'json'),
        htmlOut: str(v, 'html'),
      },
    };
  },
  print: (r, out) => compareSummary(r as CompareResult).forEach((l) => out(l)),
};
