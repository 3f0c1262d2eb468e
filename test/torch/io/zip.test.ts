import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32, write_zip, ZipReader } from '../../../src/torch/io/zip.js';
import { dataFile, leftoverTemps, tempDir } from './helpers.js';

function localDataOffsets(bytes: Uint8Array): number[] {
  const zip = ZipReader.fromBytes('mem.zip', bytes);
  try {
    return zip.entries.map((e) => zip.dataOffset(e));
  } finally {
    zip.close();
  }
}

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('write_zip -> ZipReader round trip, data 64-byte aligned', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'a.zip');
    const entries = [
      { name: 'top/data.pkl', data: new Uint8Array([1, 2, 3]) },
      { name: 'top/data/0', data: new Uint8Array(1000).map((_, i) => i & 0xff) },
      { name: 'top/empty', data: new Uint8Array(0) },
      { name: 'top/ünïcode', data: new TextEncoder().encode('x') },
    ];
    write_zip(path, entries);
    const zip = ZipReader.open(path);
    try {
      assert.deepEqual(
        zip.entries.map((e) => e.name),
        entries.map((e) => e.name),
      );
      for (const e of entries) assert.deepEqual([...zip.read(e.name)], [...e.data]);
      for (const e of zip.entries) assert.equal(zip.dataOffset(e) % 64, 0, `${e.name} aligned`);
    } finally {
      zip.close();
    }
    assert.deepEqual(leftoverTemps(dir), []);
  } finally {
    cleanup();
  }
});

test('ZIP64 records (forced) are written and read back', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'z64.zip');
    write_zip(
      path,
      [
        { name: 'a/x', data: new Uint8Array([9, 8, 7]) },
        { name: 'a/y', data: new Uint8Array(300).fill(5) },
      ],
      { zip64: 'always' },
    );
    const bytes = readFileSync(path);
    // The ZIP64 end-of-central-directory record and its locator are present.
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])));
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07])));
    const zip = ZipReader.open(path);
    try {
      assert.deepEqual([...zip.read('a/x')], [9, 8, 7]);
      assert.equal(zip.read('a/y').length, 300);
      assert.equal(zip.entry('a/y').uncompressedSize, 300);
    } finally {
      zip.close();
    }
    assert.deepEqual(
      localDataOffsets(bytes).map((o) => o % 64),
      [0, 0],
    );
  } finally {
    cleanup();
  }
});

test('deflated entries are inflated (zip written by Python zipfile)', () => {
  const zip = ZipReader.open(dataFile('torch113_deflated.pt'));
  try {
    assert.ok(zip.entries.some((e) => e.method === 8));
    assert.equal(new TextDecoder().decode(zip.read('archive/version')).trim(), '3');
    assert.ok(zip.read('archive/data.pkl').length > 100);
  } finally {
    zip.close();
  }
});

/** A zip of one deflated entry built by hand (local header, central directory, end record). */
function deflatedZip(entryName: string, comp: Uint8Array, declaredSize: number, crc: number): Buffer {
  const name = new TextEncoder().encode(entryName);
  const local = Buffer.alloc(30 + name.length);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(comp.length, 18);
  local.writeUInt32LE(declaredSize, 22);
  local.writeUInt16LE(name.length, 26);
  Buffer.from(name).copy(local, 30);
  const central = Buffer.alloc(46 + name.length);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(comp.length, 20);
  central.writeUInt32LE(declaredSize, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(0, 42);
  Buffer.from(name).copy(central, 46);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(local.length + comp.length, 16);
  return Buffer.concat([local, comp, central, end]);
}

test('a deflated entry built by hand', () => {
  const content = new TextEncoder().encode('hello hello hello hello');
  const bytes = deflatedZip('d/x.txt', zlib.deflateRawSync(content), content.length, crc32(content));
  const zip = ZipReader.fromBytes('hand.zip', bytes);
  assert.equal(new TextDecoder().decode(zip.read('d/x.txt')), 'hello hello hello hello');
  // A wrong CRC is caught.
  const bad = deflatedZip('d/x.txt', zlib.deflateRawSync(content), content.length, (crc32(content) ^ 1) >>> 0);
  assert.throws(() => ZipReader.fromBytes('bad.zip', bad).read('d/x.txt'), /bad\.zip: corrupt zip: CRC-32 mismatch in 'd\/x\.txt'/);
});

test('a zip bomb (16 bytes declared, 256 MiB of zeros deflated) fails at the declared size, naming file and entry', () => {
  // One MiB of zeros as a non-final deflate block, repeated 256 times, then an empty final block:
  // 256 MiB of output from about 256 KiB of input, built without compressing 256 MiB here.
  const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const zerosMiB = (n: number) => Buffer.concat([...new Array<Buffer>(n).fill(block), Buffer.from([0x03, 0x00])]);
  const bomb = deflatedZip('archive/data/0', zerosMiB(256), 16, 0);
  const zip = ZipReader.fromBytes('bomb.pth', bomb);
  assert.throws(
    () => zip.read('archive/data/0'),
    (e: Error) => /^bomb\.pth: corrupt zip: 'archive\/data\/0' inflates to more than the 16 bytes the directory declares$/.test(e.message),
  );
  // The same stream with its true size declared inflates completely (the cap is not a limit on real data).
  const honest = ZipReader.fromBytes('honest.zip', deflatedZip('a/b', zerosMiB(4), 4 << 20, 0), { checkCrc: false });
  assert.equal(honest.read('a/b').length, 4 << 20);
});

test('errors name the file: not a zip, truncated, missing entry', () => {
  const { dir, cleanup } = tempDir();
  try {
    const notZip = join(dir, 'plain.bin');
    writeFileSync(notZip, 'this is not a zip archive at all, just some text');
    assert.throws(
      () => ZipReader.open(notZip),
      (e: Error) => e.message.includes(notZip) && /not a zip archive/.test(e.message),
    );

    const full = join(dir, 'full.zip');
    write_zip(full, [{ name: 'f/a', data: new Uint8Array(5000) }]);
    const half = join(dir, 'half.zip');
    const bytes = readFileSync(full);
    writeFileSync(half, bytes.subarray(0, bytes.length >> 1));
    assert.throws(
      () => ZipReader.open(half),
      (e: Error) => e.message.includes(half) && /truncated zip archive/.test(e.message),
    );

    const zip = ZipReader.open(full);
    try {
      assert.throws(
        () => zip.read('f/nope'),
        (e: Error) => e.message.includes(full) && /no entry 'f\/nope'/.test(e.message),
      );
    } finally {
      zip.close();
    }
    assert.throws(() => ZipReader.open(join(dir, 'missing.zip')), /missing\.zip: cannot open/);
  } finally {
    cleanup();
  }
});

test('write_zip into a missing folder fails and leaves nothing behind', () => {
  const { dir, cleanup } = tempDir();
  try {
    assert.throws(() => write_zip(join(dir, 'no', 'such', 'a.zip'), [{ name: 'x/y', data: new Uint8Array(1) }]), /does not exist/);
    assert.deepEqual(leftoverTemps(dir), []);
  } finally {
    cleanup();
  }
});
