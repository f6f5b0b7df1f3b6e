// Paired ablations of the Python generator's rendering: the example's models on variants of the
// same Python-made val images (tools/example/shapes_ablation.py: the same seeds and labels, one
// part of the drawing off or replaced) against the plain ones, mAP(variant) − mAP(base) with the
// 95% paired bootstrap interval over images. A part whose removal moves mAP by less than the gap
// between TS-made and Python-made images cannot explain that gap.
//   node --import tsx tools/example/paired_shapes.ts BASE_DIR VARIANT_DIR [VARIANT_DIR...]
import { join } from 'node:path';
import { quietContext } from '../../src/core/context';
import { QatLensError } from '../../src/core/errors';
import { bootstrapMaps, diffs, interval95, resampleCounts } from '../../src/core/eval/bootstrap';
import { evaluateModel } from '../../src/core/infer/pipeline';
import { pythonYaml } from './check_shapes_ts';

const ex = join(__dirname, '..', '..', 'examples', 'shapes');
const pts = (x: number) => (x * 100).toFixed(2);
const MODELS = ['float.onnx', 'w4a4/qdq.onnx', 'w3a3/qdq.onnx'];

async function main(base: string, variants: string[]): Promise<void> {
  const yamls = [base, ...variants].map((d) => pythonYaml(d));
  console.log(`base ${yamls[0].what}; ${MODELS.length} models`);
  for (const m of MODELS) {
    const evs = [];
    for (const y of yamls) evs.push((await evaluateModel(join(ex, m), y.yaml, { engine: 'cpu' }, quietContext())).eval);
    const counts = resampleCounts(evs[0].perImage!.images, 1000, 1);
    const rs = bootstrapMaps(
      evs.map((e) => e.perImage!),
      counts,
    );
    console.log(`${m}: base mAP@.5:.95 ${pts(evs[0].stats[0])}, mAP@.5 ${pts(evs[0].stats[1])}`);
    variants.forEach((v, i) => {
      const e = evs[i + 1];
      const ci = interval95(diffs(rs[i + 1].map, rs[0].map));
      const ci50 = interval95(diffs(rs[i + 1].map50, rs[0].map50));
      console.log(
        `  ${v}: mAP@.5:.95 ${pts(e.stats[0])} (${pts(e.stats[0] - evs[0].stats[0])}, 95% CI [${pts(ci[0])}, ${pts(ci[1])}]); mAP@.5 ${pts(e.stats[1])} (${pts(e.stats[1] - evs[0].stats[1])}, CI [${pts(ci50[0])}, ${pts(ci50[1])}])`,
      );
    });
  }
}

const args = process.argv.slice(2);
if (args.length < 2) {
  console.error('usage: paired_shapes.ts BASE_DIR VARIANT_DIR [VARIANT_DIR...]');
  process.exitCode = 2;
} else {
  main(args[0], args.slice(1)).catch((e) => {
    console.error(e instanceof QatLensError ? e.message : e);
    process.exitCode = 1;
  });
}
