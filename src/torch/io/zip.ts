// A zip reader (central directory, stored and deflated entries, ZIP64) and a minimal writer of stored
// entries with aligned data, the container PyTorch's torch.save uses. Only what checkpoints need:
// no encryption, no multi-disk archives, no compression on write.
import { constants as bufferConstants } from 'node:buffer';
import * as zlib from 'node:zlib';
import { BufferSource, type ByteSource, type FileSink, FileSource, writeAtomic } from './files.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const EXTRA_ZIP64 = 0x0001;
/** PyTorch's writer (miniz) pads the local header with this extra field ("FB") to align the data. */
const EXTRA_PADDING = 0x4246;
/** The largest Buffer Node makes: the most one entry can inflate to. */
const MAX_LENGTH = bufferConstants.MAX_LENGTH;

// ---- CRC-32 ------------------------------------------------------------------------------------

type Crc32Fn = (data: Uint8Array, value?: number) => number;
const nativeCrc32 = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

let crcTable: Uint32Array | undefined;
function jsCrc32(data: Uint8Array, value = 0): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let c = (value ^ U32_MAX) >>> 0;
  for (let i = 0; i < data.length; i++) c = (table[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ U32_MAX) >>> 0;
}

/** The CRC-32 (zip / PNG polynomial) of data. */
export function crc32(data: Uint8Array, value = 0): number {
  return nativeCrc32 !== undefined ? nativeCrc32(data, value) >>> 0 : jsCrc32(data, value);
}

// ---- reading -----------------------------------------------------------------------------------

export interface ZipEntry {
  /** Full path inside the archive, with forward slashes. */
  readonly name: string;
  /** 0 = stored, 8 = deflated. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

function u64(view: DataView, at: number, file: string, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${file}: corrupt zip: ${what} ${v} is out of range`);
  return Number(v);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface ZipReadOptions {
  /** Verify each entry's CRC-32 when it is read (default true). */
  checkCrc?: boolean;
}

/** A zip archive opened for reading. Entries are read on demand; call close() when done. */
export class ZipReader {
  readonly entries: readonly ZipEntry[];
  readonly #byName = new Map<string, ZipEntry>();
  readonly #checkCrc: boolean;

  private constructor(
    private readonly source: ByteSource,
    options: ZipReadOptions,
  ) {
    this.#checkCrc = options.checkCrc ?? true;
    try {
      this.entries = this.#readCentralDirectory();
    } catch (err) {
      source.close();
      throw err;
    }
    for (const e of this.entries) if (!this.#byName.has(e.name)) this.#byName.set(e.name, e);
  }

  /** Opens the zip file at path (only the central directory is read now). */
  static open(path: string, options: ZipReadOptions = {}): ZipReader {
    return new ZipReader(new FileSource(path), options);
  }

  /** Reads a zip held in memory; `name` is used in error messages. */
  static fromBytes(name: string, bytes: Uint8Array, options: ZipReadOptions = {}): ZipReader {
    return new ZipReader(new BufferSource(name, bytes), options);
  }

  get name(): string {
    return this.source.name;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  entry(name: string): ZipEntry {
    const e = this.#byName.get(name);
    if (e === undefined) throw new Error(`${this.source.name}: the zip archive has no entry '${name}'`);
    return e;
  }

  /** The byte offset in the file where the entry's (possibly compressed) data begins. */
  dataOffset(entry: ZipEntry): number {
    const file = this.source.name;
    const head = this.source.read(entry.localHeaderOffset, 30, `the local header of '${entry.name}'`);
    const v = viewOf(head);
    if (v.getUint32(0, true) !== SIG_LOCAL) throw new Error(`${file}: corrupt zip: bad local header signature for '${entry.name}'`);
    return entry.localHeaderOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
  }

  /** The uncompressed contents of an entry. */
  read(name: string): Uint8Array {
    const entry = this.entry(name);
    const file = this.source.name;
    if (entry.flags & 1) throw new Error(`${file}: the zip entry '${name}' is encrypted`);
    const raw = this.source.read(this.dataOffset(entry), entry.compressedSize, `the data of '${name}'`);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else if (entry.method === 8) {
      // Inflate no further than one byte past the declared size: a bomb fails here, not after filling memory.
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.min(entry.uncompressedSize + 1, MAX_LENGTH) });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new Error(
            `${file}: corrupt zip: '${name}' inflates to more than the ${entry.uncompressedSize} bytes the directory declares`,
          );
        }
        throw new Error(`${file}: corrupt zip: cannot inflate '${name}': ${(err as Error).message}`);
      }
    } else {
      throw new Error(`${file}: the zip entry '${name}' uses compression method ${entry.method} (only stored and deflated are supported)`);
    }
    if (data.length !== entry.uncompressedSize) {
      throw new Error(`${file}: corrupt zip: '${name}' has ${data.length} bytes, the directory says ${entry.uncompressedSize}`);
    }
    if (this.#checkCrc && crc32(data) !== entry.crc32) throw new Error(`${file}: corrupt zip: CRC-32 mismatch in '${name}'`);
    return data;
  }

  close(): void {
    this.source.close();
  }

  #readCentralDirectory(): ZipEntry[] {
    const src = this.source;
    const file = src.name;
    const tailLen = Math.min(src.size, 22 + U16_MAX + 20);
    const tail = src.read(src.size - tailLen, tailLen, 'the end of the file');
    const tv = viewOf(tail);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) === tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      const head = src.size >= 4 ? viewOf(src.read(0, 4, 'the file signature')).getUint32(0, true) : 0;
      if (head === SIG_LOCAL) {
        throw new Error(
          `${file}: truncated zip archive: the end-of-central-directory record is missing (the file is incomplete or corrupt)`,
        );
      }
      throw new Error(`${file}: not a zip archive (no end-of-central-directory record)`);
    }
    const eocdPos = src.size - tailLen + eocd;
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    let cdEnd = eocdPos;
    // ZIP64: a locator right before the classic record points at the 64-bit record.
    if (eocd >= 20 && tv.getUint32(eocd - 20, true) === SIG_EOCD64_LOCATOR) {
      const recPos = u64(tv, eocd - 20 + 8, file, 'ZIP64 record offset');
      const rec = viewOf(src.read(recPos, 56, 'the ZIP64 end-of-central-directory record'));
      if (rec.getUint32(0, true) !== SIG_EOCD64) throw new Error(`${file}: corrupt zip: bad ZIP64 end-of-central-directory record`);
      count = u64(rec, 32, file, 'entry count');
      cdSize = u64(rec, 40, file, 'central directory size');
      cdOffset = u64(rec, 48, file, 'central directory offset');
      cdEnd = recPos;
    } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
      throw new Error(`${file}: corrupt zip: ZIP64 sizes without a ZIP64 end-of-central-directory locator`);
    }
    if (cdOffset + cdSize > cdEnd) {
      throw new Error(
        `${file}: truncated or corrupt zip archive: the central directory (bytes ${cdOffset}..${cdOffset + cdSize}) is out of range`,
      );
    }
    const cd = src.read(cdOffset, cdSize, 'the central directory');
    const v = viewOf(cd);
    const utf8 = new TextDecoder('utf-8', { fatal: false });
    const latin1 = new TextDecoder('latin1');
    const out: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || v.getUint32(p, true) !== SIG_CENTRAL) {
        throw new Error(`${file}: corrupt zip: central directory entry ${i} of ${count} is malformed`);
      }
      const flags = v.getUint16(p + 8, true);
      const method = v.getUint16(p + 10, true);
      const crc = v.getUint32(p + 16, true);
      let compressedSize = v.getUint32(p + 20, true);
      let uncompressedSize = v.getUint32(p + 24, true);
      const nameLen = v.getUint16(p + 28, true);
      const extraLen = v.getUint16(p + 30, true);
      const commentLen = v.getUint16(p + 32, true);
      let localHeaderOffset = v.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length)
        throw new Error(`${file}: corrupt zip: central directory entry ${i} overruns`);
      const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
      const name = flags & 0x800 ? utf8.decode(nameBytes) : latin1.decode(nameBytes);
      // ZIP64 extended information: only the fields whose 32-bit value is saturated are present.
      let q = p + 46 + nameLen;
      const extraEnd = q + extraLen;
      while (q + 4 <= extraEnd) {
        const id = v.getUint16(q, true);
        const len = v.getUint16(q + 2, true);
        if (id === EXTRA_ZIP64) {
          let f = q + 4;
          const take = (what: string): number => {
            if (f + 8 > q + 4 + len) throw new Error(`${file}: corrupt zip: short ZIP64 field for '${name}'`);
            const n = u64(v, f, file, what);
            f += 8;
            return n;
          };
          if (uncompressedSize === U32_MAX) uncompressedSize = take('size');
          if (compressedSize === U32_MAX) compressedSize = take('compressed size');
          if (localHeaderOffset === U32_MAX) localHeaderOffset = take('local header offset');
        }
        q += 4 + len;
      }
      out.push({ name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
  }
}

// ---- writing -----------------------------------------------------------------------------------

export interface ZipWriteOptions {
  /** Each entry's data starts at a multiple of this many bytes (default 64, as PyTorch). */
  alignment?: number;
  /** ZIP64 records: only where sizes require them ('auto', default) or on every entry ('always'). */
  zip64?: 'auto' | 'always';
}

interface Written {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

/** Writes a zip of stored (uncompressed) entries to a sink, sequentially. */
export class ZipWriter {
  readonly #entries: Written[] = [];
  readonly #names = new Set<string>();
  readonly #alignment: number;
  readonly #always64: boolean;
  #finished = false;

  constructor(
    private readonly sink: FileSink,
    options: ZipWriteOptions = {},
  ) {
    this.#alignment = options.alignment ?? 64;
    if (!Number.isInteger(this.#alignment) || this.#alignment < 1) throw new RangeError(`zip: invalid alignment ${this.#alignment}`);
    this.#always64 = options.zip64 === 'always';
  }

  add(name: string, data: Uint8Array): void {
    if (this.#finished) throw new Error('zip: add() after finish()');
    if (this.#names.has(name)) throw new Error(`zip: duplicate entry '${name}'`);
    this.#names.add(name);
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length > U16_MAX) throw new RangeError(`zip: entry name too long: ${name.slice(0, 80)}...`);
    const offset = this.sink.position;
    const size = data.length;
    const crc = crc32(data);
    const z64 = this.#always64 || size >= U32_MAX;
    const z64Len = z64 ? 20 : 0;
    const before = offset + 30 + nameBytes.length + z64Len + 4;
    const pad = (this.#alignment - (before % this.#alignment)) % this.#alignment;
    const extraLen = z64Len + 4 + pad;
    const head = new Uint8Array(30 + nameBytes.length + extraLen);
    const v = viewOf(head);
    v.setUint32(0, SIG_LOCAL, true);
    v.setUint16(4, z64 ? 45 : 20, true);
    v.setUint16(6, 0x800, true); // UTF-8 names
    v.setUint16(8, 0, true); // stored
    v.setUint16(10, 0, true); // time 00:00
    v.setUint16(12, 0x21, true); // date 1980-01-01
    v.setUint32(14, crc, true);
    v.setUint32(18, z64 ? U32_MAX : size, true);
    v.setUint32(22, z64 ? U32_MAX : size, true);
    v.setUint16(26, nameBytes.length, true);
    v.setUint16(28, extraLen, true);
    head.set(nameBytes, 30);
    let q = 30 + nameBytes.length;
    if (z64) {
      v.setUint16(q, EXTRA_ZIP64, true);
      v.setUint16(q + 2, 16, true);
      v.setBigUint64(q + 4, BigInt(size), true);
      v.setBigUint64(q + 12, BigInt(size), true);
      q += 20;
    }
    v.setUint16(q, EXTRA_PADDING, true);
    v.setUint16(q + 2, pad, true);
    this.sink.write(head);
    this.sink.write(data);
    this.#entries.push({ name: nameBytes, crc, size, offset });
  }

  /** Writes the central directory and end records. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const cdOffset = this.sink.position;
    for (const e of this.#entries) {
      const bigSize = this.#always64 || e.size >= U32_MAX;
      const bigOffset = this.#always64 || e.offset >= U32_MAX;
      const fields = (bigSize ? 2 : 0) + (bigOffset ? 1 : 0);
      const extraLen = fields > 0 ? 4 + 8 * fields : 0;
      const rec = new Uint8Array(46 + e.name.length + extraLen);
      const v = viewOf(rec);
      v.setUint32(0, SIG_CENTRAL, true);
      v.setUint16(4, fields > 0 ? 45 : 20, true);
      v.setUint16(6, fields > 0 ? 45 : 20, true);
      v.setUint16(8, 0x800, true);
      v.setUint16(10, 0, true);
      v.setUint16(12, 0, true);
      v.setUint16(14, 0x21, true);
      v.setUint32(16, e.crc, true);
      v.setUint32(20, bigSize ? U32_MAX : e.size, true);
      v.setUint32(24, bigSize ? U32_MAX : e.size, true);
      v.setUint16(28, e.name.length, true);
      v.setUint16(30, extraLen, true);
      v.setUint32(42, bigOffset ? U32_MAX : e.offset, true);
      rec.set(e.name, 46);
      if (fields > 0) {
        let q = 46 + e.name.length;
        v.setUint16(q, EXTRA_ZIP64, true);
        v.setUint16(q + 2, 8 * fields, true);
        q += 4;
        if (bigSize) {
          v.setBigUint64(q, BigInt(e.size), true);
          v.setBigUint64(q + 8, BigInt(e.size), true);
          q += 16;
        }
        if (bigOffset) v.setBigUint64(q, BigInt(e.offset), true);
      }
      this.sink.write(rec);
    }
    const cdSize = this.sink.position - cdOffset;
    const count = this.#entries.length;
    if (this.#always64 || count >= U16_MAX || cdOffset >= U32_MAX || cdSize >= U32_MAX) {
      const recPos = this.sink.position;
      const rec = new Uint8Array(56 + 20);
      const v = viewOf(rec);
      v.setUint32(0, SIG_EOCD64, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(count), true);
      v.setBigUint64(32, BigInt(count), true);
      v.setBigUint64(40, BigInt(cdSize), true);
      v.setBigUint64(48, BigInt(cdOffset), true);
      v.setUint32(56, SIG_EOCD64_LOCATOR, true);
      v.setBigUint64(64, BigInt(recPos), true);
      v.setUint32(72, 1, true);
      this.sink.write(rec);
    }
    const end = new Uint8Array(22);
    const v = viewOf(end);
    v.setUint32(0, SIG_EOCD, true);
    v.setUint16(8, Math.min(count, U16_MAX), true);
    v.setUint16(10, Math.min(count, U16_MAX), true);
    v.setUint32(12, Math.min(cdSize, U32_MAX), true);
    v.setUint32(16, Math.min(cdOffset, U32_MAX), true);
    this.sink.write(end);
  }
}

/** Writes a zip of stored entries to path atomically (temporary file, then rename). */
export function write_zip(path: string, entries: Iterable<{ name: string; data: Uint8Array }>, options: ZipWriteOptions = {}): void {
  writeAtomic(path, (sink) => {
    const zip = new ZipWriter(sink, options);
    for (const e of entries) zip.add(e.name, e.data);
    zip.finish();
  });
}
