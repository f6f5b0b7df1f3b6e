// A tiny pickle assembler for hand-made test files: each helper returns the bytes of one opcode
// (or a short sequence); pickle(...) adds PROTO 2 and STOP. torchZip() wraps a pickle and storages
// the way torch.save lays them out, so readCheckpoint sees a real-looking .pt.
import { zipSync } from 'fflate';

type Part = Uint8Array | Part[];
const enc = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const op = (code: number, ...rest: Uint8Array[]) => Uint8Array.from([code, ...rest.flatMap((r) => [...r])]);

export function flat(parts: Part[]): Uint8Array {
  const out: number[] = [];
  const walk = (p: Part) => {
    if (p instanceof Uint8Array) for (const b of p) out.push(b);
    else p.forEach(walk);
  };
  parts.forEach(walk);
  return Uint8Array.from(out);
}

export const P = {
  MARK: op(0x28),
  STOP: op(0x2e),
  POP: op(0x30),
  NONE: op(0x4e),
  TRUE: op(0x88),
  FALSE: op(0x89),
  REDUCE: op(0x52),
  NEWOBJ: op(0x81),
  BUILD: op(0x62),
  TUPLE: op(0x74),
  TUPLE1: op(0x85),
  TUPLE2: op(0x86),
  LIST: op(0x6c),
  APPEND: op(0x61),
  APPENDS: op(0x65),
  SETITEM: op(0x73),
  SETITEMS: op(0x75),
  emptyTuple: op(0x29),
  emptyList: op(0x5d),
  emptyDict: op(0x7d),
  BINPERSID: op(0x51),
  int: (n: number) => op(0x4a, i32(n)),
  str: (s: string) => {
    const b = Buffer.from(s, 'utf8');
    return op(0x58, u32(b.length), b);
  },
  bytes: (b: Uint8Array) => op(0x42, u32(b.length), b),
  global: (module: string, name: string) => op(0x63, enc(`${module}\n${name}\n`)),
  inst: (module: string, name: string) => op(0x69, enc(`${module}\n${name}\n`)),
  put: (k: number) => op(0x72, u32(k)),
  get: (k: number) => op(0x6a, u32(k)),
  long4: (b: Uint8Array) => op(0x8b, i32(b.length), b),
  tuple: (...items: Part[]) => flat([op(0x28), ...items, op(0x74)]),
  list: (...items: Part[]) => flat([op(0x28), ...items, op(0x6c)]),
  dict: (kv: [string, Part][]) => flat([op(0x7d), op(0x28), ...kv.flatMap(([k, v]) => [P.str(k), v]), op(0x75)]),
};

export function pickle(...parts: Part[]): Uint8Array {
  return flat([op(0x80, Uint8Array.of(2)), ...parts, op(0x2e)]);
}

/** torch._utils._rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict()). */
export function tensorV2(key: string, numel: number, size: number[], stride: number[], offset = 0): Uint8Array {
  const ints = (xs: number[]) => P.tuple(...xs.map(P.int));
  return flat([
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.MARK,
    P.tuple(P.str('storage'), P.global('torch', 'FloatStorage'), P.str(key), P.str('cpu'), P.int(numel)),
    P.BINPERSID,
    P.int(offset),
    ints(size),
    ints(stride),
    P.FALSE,
    P.global('collections', 'OrderedDict'),
    P.emptyTuple,
    P.REDUCE,
    P.TUPLE,
    P.REDUCE,
  ]);
}

/** A torch.save-style zip: archive/data.pkl, archive/byteorder, archive/data/<key> (stored, uncompressed). */
export function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {
    'archive/data.pkl': [pkl, { level: 0 }],
    'archive/byteorder': [enc('little'), { level: 0 }],
  };
  for (const [k, v] of Object.entries(storages)) files[`archive/data/${k}`] = [v, { level: 0 }];
  return zipSync(files);
}
