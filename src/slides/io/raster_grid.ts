// The true size of a raster mmfd wrote padded (label maps and probability planes: tiff_writer.ts's
// `fullPyramid`, padded on the right and bottom so that every pyramid level is level 0 over 2^k). The writer
// records the unpadded size first in level 0's ImageDescription, as the key `grid` of a JSON description or as
// `grid=<width>x<height>` ahead of a plain one, so that the file alone says where the raster ends; readers crop
// to it. A file without the record (not padded, or not mmfd's) is its own size.
import { closeSync, openSync, readSync } from 'node:fs';

export interface GridSize {
  width: number;
  height: number;
}

/** `description` with the true size `grid` recorded first. */
export function describeGrid(description: string | undefined, grid: GridSize): string {
  const json = jsonObject(description);
  if (json !== undefined) return JSON.stringify({ grid: [grid.width, grid.height], ...json });
  const field = `grid=${grid.width}x${grid.height}`;
  return description === undefined || description === '' ? field : `${field}; ${description}`;
}

/** The size describeGrid() recorded in `description`, or undefined. */
export function gridOfDescription(description: string): GridSize | undefined {
  const json = jsonObject(description)?.grid;
  const [width, height] = Array.isArray(json) ? json : (/^grid=(\d+)x(\d+)(?:;|$)/.exec(description)?.slice(1).map(Number) ?? []);
  return Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 ? { width, height } : undefined;
}

function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || !text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The true size recorded in the TIFF at `path` (its first directory's ImageDescription), or undefined when there
 * is none (no record, another format). Reads the header and that one directory only, whatever the file's size.
 */
export function recordedGrid(path: string): GridSize | undefined {
  let description: string | undefined;
  try {
    description = firstDescription(path);
  } catch (err) {
    if (err instanceof RangeError) return undefined; // cut short: the reader that opens it next says so
    throw err;
  }
  return description === undefined ? undefined : gridOfDescription(description);
}

const IMAGE_DESCRIPTION = 270;
const ASCII = 2;

function firstDescription(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const read = (at: number, length: number) => {
      const buf = Buffer.alloc(length);
      return buf.subarray(0, readSync(fd, buf, 0, length, at));
    };
    const header = read(0, 16);
    if (header.length < 8) return undefined;
    const order = header.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') return undefined;
    const le = order === 'II';
    const u16 = (b: Buffer, at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
    const u64 = (b: Buffer, at: number) => Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));
    const version = u16(header, 2);
    if (version !== 42 && (version !== 43 || header.length < 16)) return undefined;
    const big = version === 43;
    const ifd = big ? u64(header, 8) : u32(header, 4);
    const count = big ? u64(read(ifd, 8), 0) : u16(read(ifd, 2), 0);
    const entrySize = big ? 20 : 12;
    const entries = read(ifd + (big ? 8 : 2), count * entrySize);
    for (let e = 0; e + entrySize <= entries.length; e += entrySize) {
      if (u16(entries, e) !== IMAGE_DESCRIPTION || u16(entries, e + 2) !== ASCII) continue;
      const n = big ? u64(entries, e + 4) : u32(entries, e + 4);
      const inline = n <= (big ? 8 : 4);
      const value = inline
        ? entries.subarray(e + (big ? 12 : 8), e + (big ? 12 : 8) + n)
        : read(big ? u64(entries, e + 12) : u32(entries, e + 8), n);
      return value.toString('latin1').replace(/\0+$/, '');
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
