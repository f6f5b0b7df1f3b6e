// Checks that the TypeScript shapes generator (src/core/data/shapes) draws from the same
// distribution as tools/example/make_shapes.py: the example's float, W4A4 and W3A3 models score
// the same mAP on TS-generated val images as on Python-generated images, within the 95% unpaired
// bootstrap interval. The Python side is the committed images (val 200 + calib 256, neither used
// for training), or with --python a larger folder written by make_shapes.py --split val (e.g.
// 1500 images; its first 200 are the committed val images byte for byte; never the train split).
//   node --import tsx tools/example/check_shapes_ts.ts [TS_VAL_IMAGES=1000] [--dir DIR] [--python DIR]
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QatLensError } from '../../src/core/errors';
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

/** The Python-made images as a data.yaml: the committed val + calib, or `pyDir`'s images/val. */
export function pythonYaml(pyDir?: string): { yaml: string; what: string } {
  const py = mkdtempSync(join(tmpdir(), 'qat-lens-pyshapes-'));
  const names = 'nc: 5\nnames: [circle, square, triangle, star, cross]\n';
  if (!pyDir) {
    writeFileSync(join(py, 'data.yaml'), `path: ${JSON.stringify(ex)}\nval: [images/val, images/calib]\n${names}`);
    return { yaml: join(py, 'data.yaml'), what: 'committed val 200 + calib 256' };
  }
  const root = resolve(pyDir);
  const imgs = join(root, 'images', 'val');
  if (!existsSync(imgs) || !existsSync(join(root, 'labels', 'val'))) throw new QatLensError('expected images/val and labels/val as written by tools/example/make_shapes.py --split val', root);
  const n = readdirSync(imgs).filter((f) => f.endsWith('.jpg')).length;
  writeFileSync(join(py, 'data.yaml'), `path: ${JSON.stringify(root)}\nval: images/val\n${names}`);
  return { yaml: join(py, 'data.yaml'), what: `${root} (${n} val images)` };
}

export async function checkShapes(tsImages: number, dir?: string, models = ['float.onnx', 'w4a4/qdq.onnx', 'w3a3/qdq.onnx'], log: (s: string) => void = console.log, pyDir?: string): Promise<ShapesCheck[]> {
  const py = pythonYaml(pyDir);
  const t0 = Date.now();
  const tsYaml = await shapesDataset({ dir, val: tsImages, calib: 0, holdout: 0 });
  const genS = (Date.now() - t0) / 1000;
  log(`TS set: ${tsYaml} (${tsImages} val images, ${genS.toFixed(1)} s incl. any generation); Python: ${py.what}`);
  const out: ShapesCheck[] = [];
  for (const m of models) {
    const a = await evaluateModel(join(ex, m), py.yaml, { engine: 'cpu' }, quietContext());
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
  const p = args.indexOf('--python');
  const pyDir = p >= 0 ? args.splice(p, 2)[1] : undefined;
  checkShapes(Number(args[0] ?? 1000), dir, undefined, console.log, pyDir).then((r) => { if (r.some((x) => !x.ok)) process.exitCode = 1; }, (e) => { console.error(e instanceof QatLensError ? e.message : e); process.exitCode = 1; });
}
