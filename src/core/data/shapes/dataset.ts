// The enlarged shapes data set, generated on first use into a cache folder (not the repository):
// a val split for evaluation only, a labelled calib split for fitting QC, and a holdout split for
// choosing among fits, in the bundled example's YOLO + COCO layout. shapesDataset() returns the
// data.yaml path; a complete set is found again by its manifest and not regenerated.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { QatLensError, throwIfAborted } from '../../errors';
import { startThread } from '../../threads';
import type { JobContext } from '../../context';
import { quietContext } from '../../context';
import type { ShapesDone, ShapesJob } from './drawThread';
import { IMG, makeShapesImage, SHAPE_NAMES, SHAPES_SEED, type ShapeBox, type ShapesSplit } from './generate';

/** Bumped whenever generated pixels or labels change: another version is another folder. */
export const SHAPES_GENERATOR = 'qat-lens-shapes-ts-1';

export interface ShapesSetOptions {
  /** Folder of the set (default: shapesCacheDir() / a name from the version, seed and counts). */
  dir?: string;
  /** Images per split (defaults: val 1000, calib 4000, holdout 500). */
  val?: number;
  calib?: number;
  holdout?: number;
  seed?: number;
  /** Drawing threads (default: one per core; 1: this thread only). */
  threads?: number;
}

export const SHAPES_DEFAULT_COUNTS = { val: 1000, calib: 4000, holdout: 500 } as const;

/** The per-user cache folder of QAT Lens: $QAT_LENS_CACHE, else the platform's cache folder. */
export function shapesCacheDir(): string {
  if (process.env.QAT_LENS_CACHE) return resolve(process.env.QAT_LENS_CACHE);
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'qat-lens', 'cache');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'qat-lens');
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'qat-lens');
}

interface Manifest {
  generator: string;
  seed: number;
  counts: Record<ShapesSplit, number>;
  objects: Record<string, number>;
  seconds: number;
  /** Drawing threads used (the pixels do not depend on it). */
  threads?: number;
}

function plan(o: ShapesSetOptions): { dir: string; seed: number; counts: Partial<Record<ShapesSplit, number>> } {
  const seed = o.seed ?? SHAPES_SEED;
  const counts = { val: o.val ?? SHAPES_DEFAULT_COUNTS.val, calib: o.calib ?? SHAPES_DEFAULT_COUNTS.calib, holdout: o.holdout ?? SHAPES_DEFAULT_COUNTS.holdout };
  for (const [k, v] of Object.entries(counts))
    if (!Number.isInteger(v) || v < 0 || v > 1e6) throw new QatLensError(`shapes data set: ${k} must be a whole number of images from 0 to 1000000, got ${v}`);
  const dir = resolve(o.dir ?? join(shapesCacheDir(), `shapes-${SHAPES_GENERATOR}-s${seed}-v${counts.val}-c${counts.calib}-h${counts.holdout}`));
  return { dir, seed, counts };
}

function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'shapes.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

const fixed3 = (x: number): number => Math.round(x * 1000) / 1000;

type MakeImage = (split: ShapesSplit, index: number, seed: number) => Promise<{ jpeg: Uint8Array; boxes: ShapeBox[] }>;

/**
 * Draws on one worker thread per core (the drawing is JavaScript; one thread would use one core);
 * in this thread where no worker can start. The pixels are the same either way: each image is a
 * pure function of (seed, split, index).
 */
function imageMaker(threads = availableParallelism()): { make: MakeImage; close: () => Promise<void>; threads: number } {
  // The worker script: dist/shapesWorker.js beside the bundle, else drawThread.ts beside this file (tsx).
  const start = () => startThread(__dirname, 'shapesWorker.js', 'drawThread.ts');
  const first = threads > 1 ? start() : undefined;
  if (!first) return { make: (sp, i, seed) => makeShapesImage(sp, i, seed), close: async () => {}, threads: 1 };
  const pending = new Map<string, { resolve: (v: { jpeg: Uint8Array; boxes: ShapeBox[] }) => void; reject: (e: Error) => void }>();
  const workers = Array.from({ length: threads }, (_, k) => {
    const w = k === 0 ? first : start()!;
    w.on('message', (m: ShapesDone) => {
      const p = pending.get(m.key);
      pending.delete(m.key);
      if (m.error !== undefined) p?.reject(new QatLensError(`shapes generator: ${m.error}`));
      else p?.resolve({ jpeg: m.jpeg, boxes: m.boxes });
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
    return w;
  });
  let turn = 0;
  return {
    threads,
    make: (split, index, seed) =>
      new Promise((resolve, reject) => {
        const key = `${split}/${index}`;
        pending.set(key, { resolve, reject });
        workers[turn++ % workers.length].postMessage({ split, index, seed, key } satisfies ShapesJob);
      }),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** Writes one split (images, YOLO labels, COCO annotations) into `root`. */
async function writeSplit(root: string, split: ShapesSplit, count: number, seed: number, ctx: JobContext, make: MakeImage, inFlight: number, done: () => void): Promise<number> {
  await mkdir(join(root, 'images', split), { recursive: true });
  await mkdir(join(root, 'labels', split), { recursive: true });
  const images: object[] = [],
    anns: object[] = [];
  const boxesOf: ShapeBox[][] = new Array(count);
  // A few images in flight per thread: sharp encodes on its own threads while the next one is drawn.
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      throwIfAborted(ctx.signal);
      const { jpeg, boxes } = await make(split, i, seed);
      const name = String(i).padStart(6, '0');
      await writeFile(join(root, 'images', split, `${name}.jpg`), jpeg);
      const lines = boxes.map(([c, x0, y0, x1, y1]) => `${c} ${((x0 + x1) / 2 / IMG).toFixed(6)} ${((y0 + y1) / 2 / IMG).toFixed(6)} ${((x1 - x0) / IMG).toFixed(6)} ${((y1 - y0) / IMG).toFixed(6)}`);
      await writeFile(join(root, 'labels', split, `${name}.txt`), lines.join('\n') + (lines.length ? '\n' : ''));
      boxesOf[i] = boxes;
      done();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  for (let i = 0; i < count; i++) {
    images.push({ id: i + 1, file_name: `${String(i).padStart(6, '0')}.jpg`, width: IMG, height: IMG });
    for (const [c, x0, y0, x1, y1] of boxesOf[i]) {
      const w = fixed3(x1 - x0),
        h = fixed3(y1 - y0);
      anns.push({ id: anns.length + 1, image_id: i + 1, category_id: c + 1, bbox: [fixed3(x0), fixed3(y0), w, h], area: fixed3(w * h), iscrowd: 0 });
    }
  }
  const coco = {
    info: { description: `QAT Lens shapes (TypeScript generator ${SHAPES_GENERATOR}), split ${split}, seed ${seed}` },
    images,
    annotations: anns,
    categories: SHAPE_NAMES.map((n, k) => ({ id: k + 1, name: n, supercategory: 'shape' })),
  };
  await mkdir(join(root, 'annotations'), { recursive: true });
  await writeFile(join(root, 'annotations', `instances_${split}.json`), JSON.stringify(coco));
  return anns.length;
}

/**
 * The data.yaml of the generated shapes set, generating it first when the folder does not hold a
 * complete one (written into a temporary folder beside it and renamed, so an interrupted run
 * leaves nothing that looks complete). Splits: val (evaluation only), calib (fitting), holdout
 * (choosing a fit), each an independent seeded stream.
 */
export async function shapesDataset(o: ShapesSetOptions = {}, ctx: JobContext = quietContext()): Promise<string> {
  const { dir, seed, counts } = plan(o);
  const yaml = join(dir, 'data.yaml');
  const have = readManifest(dir);
  if (have && have.generator === SHAPES_GENERATOR && have.seed === seed && (Object.keys(counts) as ShapesSplit[]).every((k) => have.counts[k] === counts[k]) && existsSync(yaml)) return yaml;
  if (existsSync(dir)) throw new QatLensError('exists but is not a complete generated shapes set of these sizes (no matching shapes.json); remove it or choose another folder', dir, 'EEXIST');
  const tmp = `${dir}.partial-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  let made = 0;
  const t0 = Date.now();
  ctx.log(
    'info',
    `shapes: generating ${Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')} images into ${dir} (once)`,
  );
  const maker = imageMaker(o.threads);
  try {
    const objects: Record<string, number> = {};
    for (const [split, n] of Object.entries(counts) as [ShapesSplit, number][]) {
      objects[split] = await writeSplit(tmp, split, n, seed, ctx, maker.make, 3 * maker.threads, () => {
        made++;
        if (made % 50 === 0 || made === total) ctx.progress({ message: `shapes: ${made}/${total} images generated`, fraction: made / total });
      });
    }
    const splits = (Object.keys(counts) as ShapesSplit[]).map((k) => `${k}: images/${k}`).join('\n');
    await writeFile(
      join(tmp, 'data.yaml'),
      `# QAT Lens shapes (generated by the TypeScript port of tools/example/make_shapes.py, ${SHAPES_GENERATOR}, seed ${seed}).\n` +
        '# val: evaluation only; calib: labelled images for fitting QC; holdout: for choosing among fits.\n' +
        `path: .\n${splits}\nnc: ${SHAPE_NAMES.length}\nnames: [${SHAPE_NAMES.join(', ')}]\n`,
    );
    const manifest: Manifest = { generator: SHAPES_GENERATOR, seed, counts: counts as Record<ShapesSplit, number>, objects, seconds: (Date.now() - t0) / 1000, threads: maker.threads };
    await writeFile(join(tmp, 'shapes.json'), JSON.stringify(manifest, null, 1) + '\n');
    await mkdir(resolve(dir, '..'), { recursive: true });
    await rename(tmp, dir);
  } catch (err) {
    await maker.close();
    await rm(tmp, { recursive: true, force: true });
    // Another process may have finished the same set meanwhile.
    if (readManifest(dir)?.generator === SHAPES_GENERATOR && existsSync(yaml)) return yaml;
    throw err;
  }
  await maker.close();
  ctx.log('info', `shapes: ${total} images in ${((Date.now() - t0) / 1000).toFixed(1)} s on ${maker.threads} thread${maker.threads > 1 ? 's' : ''}`);
  return yaml;
}
