// Benchmark: the TypeScript shapes generator, per image (drawing + blur + JPEG), against its
// baseline measured in the same run, alternating: sharp's JPEG encoding alone of the same pixels.
// Run alone: node --import tsx bench/shapes.ts
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { drawShapesImage, JPEG_QUALITY, makeShapesImage } from '../src/core/data/shapes/generate';

export async function benchShapes(n = 60, rounds = 3): Promise<void> {
  const raws = Array.from({ length: n }, (_, i) => drawShapesImage('val', i).rgb);
  const tg: number[] = [],
    te: number[] = [],
    cg: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await makeShapesImage('val', i);
    const c = process.cpuUsage(c0);
    tg.push((performance.now() - t) / n);
    cg.push((c.user + c.system) / 1000 / n);
    t = performance.now();
    for (const im of raws)
      await sharp(Buffer.from(im.data.buffer), { raw: { width: im.w, height: im.h, channels: 3 } })
        .jpeg({ quality: JPEG_QUALITY })
        .toBuffer();
    te.push((performance.now() - t) / n);
  }
  const best = (x: number[]) => Math.min(...x);
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 cores)`,
  );
  console.log(`generate one 320x320 image (draw, blur, JPEG): best ${best(tg).toFixed(1)} ms wall, ${best(cg).toFixed(1)} ms CPU (runs ${tg.map((x) => x.toFixed(1)).join(', ')} ms)`);
  console.log(`baseline, JPEG encoding alone: best ${best(te).toFixed(1)} ms (runs ${te.map((x) => x.toFixed(1)).join(', ')} ms); ratio ${(best(tg) / best(te)).toFixed(1)}x`);
  console.log(`so the large example set (1000 val + 4000 calib + 500 holdout) takes about ${((best(tg) * 5500) / 1000 / 60).toFixed(1)} min at this speed`);
}

if (require.main === module)
  benchShapes().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
