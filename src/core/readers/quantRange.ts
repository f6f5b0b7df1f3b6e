// Bit-width of an integer range. Narrow ranges (e.g. -7..7, symmetric 4-bit) count as the
// container they fit: ceil(log2(qmax - qmin + 1)); full ranges give exactly log2(qmax - qmin + 1).
import { bitsOfRange } from '../model';

export function bitsOfQuantRange(qmin: number, qmax: number): number {
  const b = bitsOfRange(qmin, qmax);
  return Number.isInteger(b) ? b : Math.ceil(b);
}
