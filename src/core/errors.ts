// Errors the user sees. Each names the file (when there is one) and what is wrong with it.
import { totalmem } from 'node:os';

/** Control characters (a newline in a tensor name taken from a file) shown escaped: one line. */
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));

export class QatLensError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly code: string = 'EQATLENS',
  ) {
    super(oneLine(file ? `${file}: ${message}` : message));
    this.name = 'QatLensError';
  }
}

/** A file that cannot be read as what it claims to be. */
export class FormatError extends QatLensError {
  constructor(message: string, file: string) {
    super(message, file, 'EFORMAT');
    this.name = 'FormatError';
  }
}

/** Raised inside jobs when the caller cancelled; never shown as a failure. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Plain, cloneable description of an error for the message protocol. */
export interface ErrorInfo {
  message: string;
  name: string;
  code?: string;
  file?: string;
  stack?: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof QatLensError) return { message: err.message, name: err.name, code: err.code, file: err.file };
  if (err instanceof Error) return { message: err.message, name: err.name, stack: err.stack };
  return { message: String(err), name: 'Error' };
}

/** A short, bounded preview of a value for an error message, JSON-like (JSON.stringify of a deeply
 *  nested value overflows the call stack; this stops at 3 levels and ~120 characters). */
export function preview(v: unknown, max = 60, depth = 0): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
  else if (v === null || typeof v !== 'object') s = String(v);
  else if (depth >= 3) s = Array.isArray(v) ? '[…]' : '{…}';
  else if (Array.isArray(v))
    s = `[${v
      .slice(0, 6)
      .map((x) => preview(x, max, depth + 1))
      .join(',')}${v.length > 6 ? ',…' : ''}]`;
  else {
    const keys = Object.keys(v);
    s = `{${keys
      .slice(0, 4)
      .map((k) => `${JSON.stringify(k)}:${preview((v as Record<string, unknown>)[k], max, depth + 1)}`)
      .join(',')}${keys.length > 4 ? ',…' : ''}}`;
  }
  return s.length > max * 2 ? `${s.slice(0, max * 2)}…` : s;
}

/** Messages V8, Node and onnxruntime give when memory (or a size limit) runs out. */
const ALLOCATION_FAILURE =
  /Array buffer allocation failed|Invalid (typed )?array length|Invalid string length|Cannot create a string longer|bad_alloc|Failed to allocate memory|out of memory|ERR_BUFFER_TOO_LARGE|ERR_STRING_TOO_LONG|Reached heap limit/i;

export function isAllocationFailure(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof QatLensError) return false;
  return ALLOCATION_FAILURE.test(err.message) || ALLOCATION_FAILURE.test(String((err as NodeJS.ErrnoException).code ?? ''));
}

/** Out of memory, in one line that names the setting to lower. */
export class MemoryError extends QatLensError {
  constructor(what: string, setting: string, file?: string) {
    super(`out of memory while ${what}: lower ${setting} and try again`, file, 'ENOMEM');
    this.name = 'MemoryError';
  }
}

/** Largest single allocation the engine attempts (bytes): a quarter of the machine's memory, at most 4 GB. */
export function allocationBudget(): number {
  return Math.min(totalmem() / 4, 4 * 2 ** 30);
}

/** Refuses, before allocating, a buffer of `bytes` that cannot fit; `setting` names what to lower. */
export function checkAllocation(bytes: number, what: string, setting: string, file?: string): void {
  if (!(bytes <= allocationBudget())) {
    throw new QatLensError(`${what} would need ${(bytes / 2 ** 30).toFixed(1)} GB, more than this machine allows (${(allocationBudget() / 2 ** 30).toFixed(1)} GB): ${setting}`, file, 'ENOMEM');
  }
}

/** Runs `fn`, turning an allocation failure into a MemoryError that names `setting`. */
export async function guardMemory<T>(fn: () => Promise<T> | T, what: string, setting: string, file?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isAllocationFailure(err)) throw new MemoryError(what, setting, file);
    throw err;
  }
}

/** The first line of a message, without onnxruntime's source paths: refusals are one line. */
export function firstLine(message: string): string {
  return (
    message
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l)
      ?.replace(/^\/onnxruntime_src\/\S+\s*/, '')
      .replace(/^\[[^\]]*\]\s*/, '')
      .slice(0, 300) ?? ''
  );
}

/**
 * An error from an engine (onnxruntime, Buffer, sharp) as a one-line QatLensError naming `file`.
 * Cancellations, allocation failures (turned into MemoryError by the job runner) and errors that
 * already name a file pass through.
 */
export function engineError(err: unknown, file: string, engine = 'onnxruntime'): unknown {
  if (err instanceof CancelledError || isAllocationFailure(err)) return err;
  if (err instanceof QatLensError) return err.file ? err : new QatLensError(firstLine(err.message), file, err.code);
  return new QatLensError(`${engine}: ${firstLine(err instanceof Error ? err.message : String(err))}`, file, 'EENGINE');
}
