// Memory of the QC process: its peak resident size (Linux: VmHWM, which clear_refs resets so one
// micro-batch can be measured alone) and the memory the machine has free, to size micro-batches.
import { readFileSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';

const status = (key: string): number | undefined => {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
};

/** Peak resident bytes of this process since it started or since resetPeakRss (RSS now where the OS does not say). */
export function peakRss(): number {
  return status('VmHWM') ?? process.memoryUsage().rss;
}

/** Resident bytes now. */
export function currentRss(): number {
  return status('VmRSS') ?? process.memoryUsage().rss;
}

/** Restart the peak from the current size where the OS allows it (Linux); false where it does not. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Bytes the machine can give without swapping (MemAvailable on Linux). */
export function availableBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return freemem();
}

/** Room under the "Max address space" line of a /proc/PID/limits text for a process mapping `vmSize` bytes (Infinity: no limit). */
export function addressSpaceLeftOf(limits: string, vmSize: number): number {
  const m = /^Max address space\s+(\S+)/m.exec(limits);
  if (!m || m[1] === 'unlimited') return Infinity;
  return Math.max(0, Number(m[1]) - vmSize);
}

/** Bytes this process may still map under its address-space limit (RLIMIT_AS; Infinity where there is none or the OS does not say). */
export function addressSpaceLeft(): number {
  try {
    const size = status('VmSize');
    return size === undefined ? Infinity : addressSpaceLeftOf(readFileSync('/proc/self/limits', 'utf8'), size);
  } catch {
    return Infinity;
  }
}

/** What can still be allocated: the machine's free memory, or less under an address-space limit. */
export function headroomBytes(): number {
  return Math.min(availableBytes(), addressSpaceLeft());
}

/**
 * The largest micro-batch whose working memory fits a share of what is free: `perImage` bytes each (measured
 * on the first micro-batch, an upper bound: it includes that batch's fixed costs), on top of what the
 * process already holds. `held` is what the measured micro-batch already had allocated (its arenas are reused).
 */
export function chooseMicroBatch(batch: number, perImage: number, free: number, held = 0, share = 0.6): number {
  if (!(perImage > 0)) return batch;
  return Math.max(1, Math.min(batch, Math.floor((share * free + held) / perImage)));
}

export const MB = 1024 * 1024;
