// Checks that the TypeScript shapes generator (src/core/data/shapes) draws from the same
// distribution as tools/example/make_shapes.py: the example's float, W4A4 and W3A3 models score
// the same mAP on TS-generated val images as on the committed Python-generated images (val 200 +
// calib 256, neither used for training), within the 95% unpaired bootstrap interval.
//   node --import tsx tools/example/check_shapes_ts.ts [TS_VAL_IMAGES=1000] [--dir DIR]
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shapesDataset } from '../../src/core/data/shapes/dataset';
import { containsZero, unpairedDiffIntervals } from '../../src/core/eval/bootstrap';
import { evaluateModel } from '../../src/core/infer/pipeline';
import { quietContext } from '../../src/core/context';

const ex = join(__dirname, '..', '..', 'examples', 'shapes');
const pts = (x: number) => (x * 100).toFixed(2);

export interface ShapesCheck {
  model: string;
  /** mAP@.5:.95 and mAP@.5 on the Python-made and on the TS-made images. */
  python: [number, number];
  ts: [number, number];
  /** 95% intervals of TS − Python. */
  mapCi: [number, number];
  map50Ci: [number, number];
  ok: boolean;
}

export async function checkShapes(tsImages: number, dir?: string, models = ['float.onnx', 'w4a4/qdq.onnx', 'w3a3/qdq.onnx'], log: (s: string) => void = console.log): Promise<ShapesCheck[]> {
  const t0 = Date.now();
  const tsYaml = await shapesDataset({ dir, val: tsImages, calib: 0, holdout: 0 });
  const genS = (Date.now() - t0) / 1000;
  const py = mkdtempSync(join(tmpdir(), 'qat-lens-pyshapes-'));
  writeFileSync(join(py, 'data.yaml'), `path: ${JSON.stringify(ex)}\nval: [images/val, images/calib]\nnc: 5\nnames: [circle, square, triangle, star, cross]\n`);
  log(`TS set: ${tsYaml} (${tsImages} val images, ${genS.toFixed(1)} s incl. any generation); Python: val 200 + calib 256`);
  const out: ShapesCheck[] = [];
  for (const m of models) {
    const a = await evaluateModel(join(ex, m), join(py, 'data.yaml'), { engine: 'cpu' }, quietContext());
    const b = await evaluateModel(join(ex, m), tsYaml, { engine: 'cpu' }, quietContext());
    const ci = unpairedDiffIntervals(a.eval.perImage!, b.eval.perImage!, 1000, 1);
    const ok = containsZero(ci.map) && containsZero(ci.map50);
    log(`${m.padEnd(14)} mAP@.5:.95 Python ${pts(a.eval.stats[0])} TS ${pts(b.eval.stats[0])} (TS − Py ${pts(b.eval.stats[0] - a.eval.stats[0])}, 95% CI [${pts(ci.map[0])}, ${pts(ci.map[1])}]);` +
      ` mAP@.5 Python ${pts(a.eval.stats[1])} TS ${pts(b.eval.stats[1])} (CI [${pts(ci.map50[0])}, ${pts(ci.map50[1])}]) ${ok ? 'same within the interval' : 'DIFFERENT'}`);
    out.push({ model: m, python: [a.eval.stats[0], a.eval.stats[1]], ts: [b.eval.stats[0], b.eval.stats[1]], mapCi: ci.map, map50Ci: ci.map50, ok });
  }
  return out;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const d = args.indexOf('--dir');
  const dir = d >= 0 ? args.splice(d, 2)[1] : undefined;
  checkShapes(Number(args[0] ?? 1000), dir).then((r) => { if (r.some((x) => !x.ok)) process.exitCode = 1; }, (e) => { console.error(e); process.exitCode = 1; });
}
