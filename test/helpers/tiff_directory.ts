// A minimal TIFF directory reader for tests, independent of the writer: classic and BigTIFF headers,
// the IFD chain, and each tag's values (numbers, or a string for ASCII), read straight from the bytes.
import { readFileSync } from 'node:fs';

export interface TiffDirectory {
  offset: number;
  tags: Map<number, number[] | string>;
}

export interface TiffFile {
  bigTiff: boolean;
  bytes: Buffer;
  directories: TiffDirectory[];
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 16: 8 };

export function readTiffDirectories(path: string): TiffFile {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 0, 2) !== 'II') throw new Error(`${path}: not a little-endian TIFF`);
  const version = bytes.readUInt16LE(2);
  if (version !== 42 && version !== 43) throw new Error(`${path}: TIFF version ${version}`);
  const big = version === 43;
  const u64 = (at: number) => Number(bytes.readBigUInt64LE(at));
  const directories: TiffDirectory[] = [];
  let offset = big ? u64(8) : bytes.readUInt32LE(4);
  while (offset !== 0) {
    if (offset >= bytes.length || directories.length > 64) throw new Error(`${path}: bad IFD offset ${offset}`);
    const count = big ? u64(offset) : bytes.readUInt16LE(offset);
    const entrySize = big ? 20 : 12;
    const first = offset + (big ? 8 : 2);
    const tags = new Map<number, number[] | string>();
    for (let e = 0; e < count; e++) {
      const at = first + e * entrySize;
      const tag = bytes.readUInt16LE(at);
      const type = bytes.readUInt16LE(at + 2);
      const n = big ? u64(at + 4) : bytes.readUInt32LE(at + 4);
      const size = TYPE_SIZE[type];
      if (size === undefined) throw new Error(`${path}: tag ${tag} has unknown type ${type}`);
      const inline = big ? 8 : 4;
      const where = n * size <= inline ? at + (big ? 12 : 8) : big ? u64(at + 12) : bytes.readUInt32LE(at + 8);
      if (type === 2) {
        tags.set(tag, bytes.toString('latin1', where, where + n).replace(/\0+$/, ''));
        continue;
      }
      const values: number[] = [];
      for (let i = 0; i < n; i++) {
        if (type === 3) values.push(bytes.readUInt16LE(where + 2 * i));
        else if (type === 4) values.push(bytes.readUInt32LE(where + 4 * i));
        else if (type === 5) values.push(bytes.readUInt32LE(where + 8 * i) / bytes.readUInt32LE(where + 8 * i + 4));
        else if (type === 16) values.push(u64(where + 8 * i));
        else values.push(bytes[where + i]!);
      }
      tags.set(tag, values);
    }
    directories.push({ offset, tags });
    offset = big ? u64(first + count * entrySize) : bytes.readUInt32LE(first + count * entrySize);
  }
  return { bigTiff: big, bytes, directories };
}

/** A tag's numbers; throws if the tag is missing or a string. */
export function numbers(dir: TiffDirectory, tag: number): number[] {
  const v = dir.tags.get(tag);
  if (v === undefined || typeof v === 'string') throw new Error(`tag ${tag} is ${v === undefined ? 'missing' : 'a string'}`);
  return v;
}

/** A tag's single number. */
export function tagValue(dir: TiffDirectory, tag: number): number {
  return numbers(dir, tag)[0]!;
}
