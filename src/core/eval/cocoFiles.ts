// Reading COCO instances and results files, with errors that name the file.
import { promises as fs } from 'node:fs';
import { FormatError, QatLensError } from '../errors';
import type { CocoDet, CocoGt } from './cocoTypes';
import { validateDets, validateGt } from './cocoValidate';

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new QatLensError(code === 'ENOENT' ? `no such ${what} file` : `cannot read the ${what} file (${(err as Error).message})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError(`not valid JSON (${(err as Error).message})`, file);
  }
}

/** A COCO instances file (images, annotations, categories), checked. */
export async function loadCocoGt(file: string): Promise<CocoGt> {
  return validateGt(await readJson(file, 'COCO instances'), file);
}

/** A COCO results file (a JSON array of {image_id, category_id, bbox, score}), checked. */
export async function loadCocoResults(file: string): Promise<CocoDet[]> {
  return validateDets(await readJson(file, 'COCO results'), file);
}
