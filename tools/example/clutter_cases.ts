// Random clutter lines and arcs drawn by the TS port (src/core/data/shapes/raster.ts), written as
// JSON for tools/example/shapes_ablation.py --check-clutter, which checks that its Python copy of
// line/arc (the tsclutter variant) sets exactly the same pixels.
//   node --import tsx tools/example/clutter_cases.ts OUT.json [N=400]
import { writeFileSync } from 'node:fs';
import { Rng } from '../../src/core/rng';
import { arc, line } from '../../src/core/data/shapes/raster';

const [out, n = '400'] = process.argv.slice(2);
const rng = new Rng(7);
const cases: { kind: 'line' | 'arc'; args: number[]; pixels: number[] }[] = [];
for (let k = 0; k < Number(n); k++) {
  const img = { w: 320, h: 320, data: new Uint8Array(320 * 320 * 3) };
  const p = [rng.uniform(0, 320), rng.uniform(0, 320), rng.uniform(0, 320), rng.uniform(0, 320)];
  let args: number[];
  if (k % 2 === 0) {
    args = [...p, rng.intIn(1, 4)];
    line(img, p[0], p[1], p[2], p[3], [255, 255, 255], args[4]);
  } else {
    const x0 = Math.min(p[0], p[2]),
      y0 = Math.min(p[1], p[3]);
    args = [x0, y0, x0 + Math.abs(p[2] - p[0]) + 5, y0 + Math.abs(p[3] - p[1]) + 5, rng.uniform(0, 360), rng.uniform(0, 360), rng.intIn(1, 3)];
    arc(img, args[0], args[1], args[2], args[3], args[4], args[5], [255, 255, 255], args[6]);
  }
  const pixels: number[] = [];
  for (let i = 0; i < 320 * 320; i++) if (img.data[i * 3]) pixels.push(i);
  cases.push({ kind: k % 2 === 0 ? 'line' : 'arc', args, pixels });
}
writeFileSync(out, JSON.stringify(cases));
