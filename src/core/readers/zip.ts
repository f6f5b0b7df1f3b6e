// Zip archive index over an in-memory file (torch.save's format). Stored entries (what torch writes,
// 64-byte aligned) come back as views into the file buffer: no decompression, no copy. Deflated
// entries, should a user re-zip a checkpoint, are inflated with fflate.
import { inflateSync } from 'fflate';
import { FormatError, checkAllocation } from '../errors';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dv: DataView;

  constructor(
    readonly data: Uint8Array,
    readonly file: string,
  ) {
    this.dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.readCentralDirectory();
  }

  private fail(msg: string): never {
    throw new FormatError(`corrupt or truncated zip archive: ${msg}`, this.file);
  }

  private u16(o: number) {
    if (o + 2 > this.data.length) this.fail('read past end');
    return this.dv.getUint16(o, true);
  }
  private u32(o: number) {
    if (o + 4 > this.data.length) this.fail('read past end');
    return this.dv.getUint32(o, true);
  }
  private u64(o: number) {
    if (o + 8 > this.data.length) this.fail('read past end');
    const v = this.dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('64-bit size too large');
    return Number(v);
  }

  private readCentralDirectory(): void {
    const d = this.data;
    let eocd = -1;
    for (let i = d.length - 22; i >= Math.max(0, d.length - 22 - 65535); i--) {
      if (d[i] === 0x50 && d[i + 1] === 0x4b && d[i + 2] === 0x05 && d[i + 3] === 0x06) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) this.fail('end of central directory not found (file truncated?)');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== 0x07064b50) this.fail('zip64 locator missing');
      const z64 = this.u64(loc + 8);
      if (this.u32(z64) !== 0x06064b50) this.fail('zip64 end of central directory missing');
      count = this.u64(z64 + 32);
      cdSize = this.u64(z64 + 40);
      cdOffset = this.u64(z64 + 48);
    }
    if (cdOffset + cdSize > d.length) this.fail('central directory lies past the end of the file (file truncated?)');
    const dec = new TextDecoder();
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(p) !== 0x02014b50) this.fail(`central directory entry ${i} has a bad signature`);
      const method = this.u16(p + 10);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28),
        extraLen = this.u16(p + 30),
        commentLen = this.u16(p + 32);
      let localOffset = this.u32(p + 42);
      if (p + 46 + nameLen > d.length) this.fail('entry name past the end');
      const name = dec.decode(d.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field: the 0xffffffff fields, in order size, compressed size, offset.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = this.u16(e),
          len = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) {
            size = this.u64(q);
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(q);
            q += 8;
          }
          if (localOffset === 0xffffffff) {
            localOffset = this.u64(q);
            q += 8;
          }
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localOffset });
      p = eEnd + commentLen;
    }
  }

  /** Entry bytes: a view for stored entries, inflated for deflated ones. */
  read(name: string): Uint8Array {
    const en = this.entries.get(name);
    if (!en) throw new FormatError(`zip entry '${name}' not found`, this.file);
    const o = en.localOffset;
    if (this.u32(o) !== 0x04034b50) this.fail(`local header of '${name}' has a bad signature`);
    const start = o + 30 + this.u16(o + 26) + this.u16(o + 28);
    const end = start + en.compressedSize;
    if (end > this.data.length) this.fail(`entry '${name}' runs past the end of the file (file truncated?)`);
    const raw = this.data.subarray(start, end);
    if (en.method === 0) return raw;
    if (en.method === 8) {
      // Deflate expands at most 1032:1: a declared size beyond that is a lie (or a bomb), refused
      // before the output buffer is allocated.
      if (en.size > raw.length * 1032 + 1024) this.fail(`entry '${name}' declares ${en.size} bytes, more than ${raw.length} compressed bytes can hold`);
      checkAllocation(en.size, `inflating zip entry '${name}'`, 'this file is too large to read on this machine', this.file);
      try {
        return inflateSync(raw, { out: new Uint8Array(en.size) });
      } catch (err) {
        this.fail(`entry '${name}' does not inflate (${(err as Error).message})`);
      }
    }
    return this.fail(`entry '${name}' uses unsupported compression method ${en.method}`);
  }
}
