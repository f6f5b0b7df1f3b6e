// Errors the user sees. Each names the file (when there is one) and what is wrong with it.

export class QatLensError extends Error {
  constructor(message: string, readonly file?: string, readonly code: string = 'EQATLENS') {
    super(file ? `${file}: ${message}` : message);
    this.name = 'QatLensError';
  }
}

/** A file that cannot be read as what it claims to be. */
export class FormatError extends QatLensError {
  constructor(file: string, message: string) {
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
