// The format and CPU architecture of a native binary from its headers: ELF (e_machine), Mach-O
// (cputype; every slice of a universal binary must agree) and PE32+ (COFF machine).
export interface BinaryKind {
  format: 'elf' | 'macho' | 'pe' | 'unknown';
  arch: string;
}

const ELF_MACHINE: Record<number, string> = { 0x3e: 'x86_64', 0xb7: 'aarch64', 0x28: 'arm' };
const MACHO_CPU: Record<number, string> = { 0x01000007: 'x86_64', 0x0100000c: 'arm64' };
const PE_MACHINE: Record<number, string> = { 0x8664: 'x86_64', 0xaa64: 'arm64', 0x14c: 'i386' };

export function binaryKind(b: Uint8Array): BinaryKind {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 20 && v.getUint32(0) === 0x7f454c46) {
    return { format: 'elf', arch: ELF_MACHINE[v.getUint16(18, b[5] === 1)] ?? `elf-${v.getUint16(18, true)}` };
  }
  if (b.length >= 8 && v.getUint32(0, true) === 0xfeedfacf) {
    return { format: 'macho', arch: MACHO_CPU[v.getUint32(4, true)] ?? `macho-${v.getUint32(4, true)}` };
  }
  if (b.length >= 8 && v.getUint32(0) === 0xcafebabe) {
    const archs = new Set<string>();
    for (let i = 0; i < v.getUint32(4); i++) archs.add(MACHO_CPU[v.getUint32(8 + 20 * i)] ?? 'unknown');
    return { format: 'macho', arch: archs.size === 1 ? [...archs][0] : [...archs].sort().join('+') };
  }
  if (b.length >= 64 && b[0] === 0x4d && b[1] === 0x5a) {
    const pe = v.getUint32(0x3c, true);
    if (pe + 26 <= b.length && v.getUint32(pe) === 0x50450000) {
      const optMagic = v.getUint16(pe + 24, true);
      return { format: optMagic === 0x20b ? 'pe' : 'unknown', arch: PE_MACHINE[v.getUint16(pe + 4, true)] ?? 'unknown' };
    }
  }
  return { format: 'unknown', arch: 'unknown' };
}
