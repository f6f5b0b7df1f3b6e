// Small hostile files that used to hang or crash a reader (issue 14), built in memory so the
// repo stays small. Each returns the bytes of one file and the file name it should have.
import { P, flat, pickle, tensorV2, torchZip } from './pickleAsm';

/** A tuple reused through the memo as its own two halves, 60 levels deep, used as a dict key. */
export function memoTupleKey(depth = 60): Uint8Array {
  const parts = [P.int(1), P.TUPLE1, P.put(0), P.POP];
  for (let i = 1; i <= depth; i++) parts.push(P.get(i - 1), P.get(i - 1), P.TUPLE2, P.put(i), ...(i < depth ? [P.POP] : []));
  // {'layers': {'a': {t: 1}}}: the key sits in nested dicts.
  return torchZip(pickle(P.emptyDict, P.str('layers'), P.emptyDict, P.str('a'), P.emptyDict, ...parts, P.int(1), P.SETITEM, P.SETITEM, P.SETITEM));
}

/** LONG4 with a 1 MB integer (quadratic to decode byte by byte), and one that claims 2 GB. */
export function long4Huge(): Uint8Array {
  return torchZip(pickle(P.long4(new Uint8Array(1 << 20).fill(0x7f))));
}
export function long4Claims2GB(): Uint8Array {
  return torchZip(pickle(Uint8Array.of(0x8b, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3)));
}

/** A list of 400k ints appended at once, and 200 levels of nested lists. */
export function wideTree(n = 400_000): Uint8Array {
  const ints = [];
  for (let i = 0; i < n; i++) ints.push(Uint8Array.of(0x4b, i & 0xff)); // BININT1
  const nested = [];
  for (let i = 0; i < 200; i++) nested.push(P.emptyList);
  for (let i = 0; i < 199; i++) nested.push(P.APPEND);
  return torchZip(pickle(P.emptyList, P.MARK, flat(ints), P.APPENDS, ...nested, P.APPEND));
}

/** conv.weight of size [20000, 20000], stride [0, 0], over a 4-byte storage, plus an LSQ step size. */
export function zeroStrideTensor(): Uint8Array {
  const pkl = pickle(
    P.global('collections', 'OrderedDict'),
    P.emptyTuple,
    P.REDUCE,
    P.MARK,
    P.str('conv.weight'),
    tensorV2('0', 1, [20000, 20000], [0, 0]),
    P.str('conv.quan_w_fn.s'),
    tensorV2('1', 1, [], []),
    P.SETITEMS,
  );
  return torchZip(pkl, { '0': new Uint8Array(new Float32Array([0.5]).buffer), '1': new Uint8Array(new Float32Array([0.1]).buffer) });
}

/** safetensors with a weight declared [100000000, 0] (no bytes) and a quantizer for it. */
export function safetensorsEmptyHuge(): Uint8Array {
  const header = {
    'conv.weight': { dtype: 'F32', shape: [100000000, 0], data_offsets: [0, 0] },
    'conv.weight_quantizer._amax': { dtype: 'F32', shape: [], data_offsets: [0, 4] },
  };
  return safetensorsFile(header, new Uint8Array(new Float32Array([1]).buffer));
}

/** A safetensors file: u64 header length, JSON header (padded with spaces to `pad`), data. */
export function safetensorsFile(header: object, data: Uint8Array, pad = 0): Uint8Array {
  let json = JSON.stringify(header);
  if (pad > json.length) json = json.padEnd(pad, ' ');
  const h = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Uint8Array.from(Buffer.concat([len, h, data]));
}
