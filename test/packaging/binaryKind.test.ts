// binaryKind reads format and architecture from real binaries of every platform: onnxruntime-node's
// npm package carries all of them, and this machine's Node is an x86-64 ELF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaryKind } from './binaryKind';

const ORT = join(__dirname, '..', '..', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
const read = (p: string) => new Uint8Array(readFileSync(p));

test('binaryKind: onnxruntime bindings of every platform', () => {
  assert.deepEqual(binaryKind(read(join(ORT, 'linux', 'x64', 'onnxruntime_binding.node'))), { format: 'elf', arch: 'x86_64' });
  assert.deepEqual(binaryKind(read(join(ORT, 'linux', 'arm64', 'libonnxruntime.so.1'))), { format: 'elf', arch: 'aarch64' });
  assert.deepEqual(binaryKind(read(join(ORT, 'darwin', 'arm64', 'onnxruntime_binding.node'))), { format: 'macho', arch: 'arm64' });
  assert.deepEqual(binaryKind(read(join(ORT, 'win32', 'x64', 'onnxruntime.dll'))), { format: 'pe', arch: 'x86_64' });
  assert.deepEqual(binaryKind(read(join(ORT, 'win32', 'arm64', 'onnxruntime_binding.node'))), { format: 'pe', arch: 'arm64' });
});

test('binaryKind: a universal Mach-O names both slices; text is unknown', () => {
  const fat = new Uint8Array(8 + 40);
  const v = new DataView(fat.buffer);
  v.setUint32(0, 0xcafebabe);
  v.setUint32(4, 2);
  v.setUint32(8, 0x01000007);
  v.setUint32(28, 0x0100000c);
  assert.deepEqual(binaryKind(fat), { format: 'macho', arch: 'arm64+x86_64' });
  assert.deepEqual(binaryKind(new TextEncoder().encode('#!/bin/sh\necho not a binary, but long enough to look at its header\n')), { format: 'unknown', arch: 'unknown' });
});
