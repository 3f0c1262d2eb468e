// A streaming writer for tiled pyramidal BigTIFF files (the layout OpenSlide's "generic tiled TIFF",
// libvips/sharp and Bio-Formats read): level 0 is the first IFD, each further IFD is a 2x downsample
// marked NewSubfileType = 1 (reduced resolution), down to a level that fits in one tile or, sooner, the last
// level both of whose sides are even. Every level is thus exactly level 0 over 2^k: OpenSlide takes a level's
// downsample as the mean of w0 / w and h0 / h, and a level made by rounding (1501 -> 751 -> 376) gets a
// fractional one (1.9983), at which OpenSlide places every region not read from the level's origin at a
// fractional position and resamples it bilinearly (labels 21 read as 20, RGB off by up to 37 at level 1 of a
// 1501 x 999 image). An exact level has a whole downsample, so a region at a multiple of it is read exactly.
// Rasters on a label grid (label maps, probability planes) ask for `fullPyramid` instead: level 0 is padded on the
// right and bottom with the pad value (outside: no tissue, no class) to a multiple of 2^k, k the levels down to one
// tile, so every level exists and is exact; each reduced level is the rounding pyramid of the true pixels (an edge
// block that straddles the padding takes its true pixels only), padded likewise. Origin and pixel size are
// unchanged; the true size is recorded in the ImageDescription (io/raster_grid.ts) and mmfd's readers crop to it.
//
// The caller hands over level 0 one band (one row of tiles) at a time; the streaming pyramid (pyramid.ts)
// hands back that band and every band of a smaller level it completes, each of which is cut into tiles,
// compressed on libuv's thread pool and appended to the file. Peak memory is therefore
// O(width x tile size x levels), never O(width x height). The IFDs and the tile offset/byte-count
// tables go at the end of the file, then the header is patched to point at them. Everything is written
// to a temporary file beside `path` and renamed on close() (AtomicFile), so a crash or error never leaves a
// truncated TIFF at `path`.
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import sharp from 'sharp';
import { AtomicFile } from '../../torch/io/files.js';
import { describeGrid } from '../io/raster_grid.js';
import { BandPyramid, paddedPyramidLevels } from './pyramid.js';

const deflateAsync = promisify(deflate);

export type TiffCompression = 'none' | 'deflate' | 'jpeg';

export interface PyramidalTiffOptions {
  width: number;
  height: number;
  /** 3 = RGB 8-bit, 1 = one 8-bit channel (label maps). */
  channels: 1 | 3;
  /** Tile edge in pixels, a multiple of 16 (TIFF's rule); default 256. */
  tileSize?: number;
  /** Default 'deflate' (Adobe deflate, code 8). 'jpeg' is RGB only. */
  compression?: TiffCompression;
  /** Horizontal differencing (Predictor = 2) before deflate; default true. */
  predictor?: boolean;
  /** zlib level 1-9; default 6. */
  deflateLevel?: number;
  /** JPEG quality 1-100; default 90. */
  jpegQuality?: number;
  /** Microns per pixel at level 0; stored as X/YResolution in pixels per centimetre. */
  mpp?: number;
  /** ImageDescription of level 0. */
  description?: string;
  /** The Software tag; default 'mmfd'. Vendor layouts say who they imitate here (Philips TIFF must start with 'Philips'). */
  software?: string;
  /** Sample value of the padding in edge tiles; default 255 (white) for RGB, 0 for one channel. */
  padValue?: number;
  /** How one-channel levels shrink: 'mode' of each 2x2 block (labels, default) or 'mean'. RGB always uses 'mean'. */
  downsample?: 'mode' | 'mean';
  /**
   * Pad level 0 with the pad value to a multiple of 2^k so that the pyramid goes down to one tile (see the top of
   * this file); the true size goes into the ImageDescription. Default false: the pyramid stops at the first odd side.
   */
  fullPyramid?: boolean;
}

/** One pyramid level: the offsets/byte counts of the tiles written so far. */
interface Level {
  /** The level's size in the file. */
  width: number;
  height: number;
  /** The size of its pixels from the image: the rest, to the right and below, is padding. */
  dataWidth: number;
  dataHeight: number;
  tilesAcross: number;
  tilesDown: number;
  offsets: number[];
  byteCounts: number[];
}

/** A tile in flight: its level, index and compressed bytes (a promise until the pool finishes). */
interface PendingTile {
  level: Level;
  index: number;
  data: Promise<Uint8Array>;
}

const TAG = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  SamplesPerPixel: 277,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  ResolutionUnit: 296,
  Software: 305,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  YCbCrSubSampling: 530,
  SampleFormat: 339,
} as const;

const TYPE = { ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5, LONG8: 16 } as const;
/** Bytes per stored number: a RATIONAL is two LONGs, kept as two numbers in `values`. */
const TYPE_SIZE: Record<number, number> = { 2: 1, 3: 2, 4: 4, 5: 4, 16: 8 };

interface Entry {
  tag: number;
  type: number;
  values: number[] | string;
}

/**
 * Bands allowed in flight (compressing or being written) when writeBand() returns: one, so that the pool
 * compresses band k while the caller makes band k + 1, and no more than two bands of tiles are held.
 */
const MAX_BANDS_IN_FLIGHT = 1;

/**
 * Tile encodings running at once, process-wide. zlib allocates its ~256 kB of state when a call is made,
 * not when a pool thread takes it up, so queueing a whole band's tiles at once would hold that state for
 * every tile of the band: memory that grows with the slide's width.
 */
const ENCODE_SLOTS = 8;
let freeSlots = ENCODE_SLOTS;
const waitingForSlot: (() => void)[] = [];

async function inSlot<T>(encode: () => Promise<T>): Promise<T> {
  if (freeSlots > 0) freeSlots--;
  else await new Promise<void>((resolve) => waitingForSlot.push(resolve));
  try {
    return await encode();
  } finally {
    const next = waitingForSlot.shift();
    if (next !== undefined) next();
    else freeSlots++;
  }
}

export class PyramidalTiffWriter {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly tileSize: number;
  readonly compression: TiffCompression;
  /** The levels' sizes as stored: with `fullPyramid`, padded beyond `width` x `height`. */
  readonly levels: readonly { width: number; height: number }[];
  readonly #predictor: boolean;
  readonly #deflateLevel: number;
  readonly #jpegQuality: number;
  readonly #mpp: number | undefined;
  readonly #description: string | undefined;
  readonly #software: string;
  readonly #padValue: number;
  readonly #pyramid: BandPyramid;
  readonly #levels: Level[];
  #padTile: Promise<Uint8Array> | undefined;
  #file: AtomicFile | undefined;
  #position = 16; // after the BigTIFF header
  #rowsReceived = 0;
  #inFlight: Promise<void>[] = [];
  #writeChain: Promise<void> = Promise.resolve();
  #failure: unknown;
  #closed = false;

  /** Checks the options; use `await PyramidalTiffWriter.create(...)`, which opens the temporary file. */
  private constructor(path: string, options: PyramidalTiffOptions) {
    const { width, height, channels } = options;
    const tileSize = options.tileSize ?? 256;
    const compression = options.compression ?? 'deflate';
    const fail = (problem: string) => new Error(`${path}: cannot write pyramidal TIFF: ${problem}`);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw fail(`width and height must be positive integers (got ${width} x ${height})`);
    if (channels !== 1 && channels !== 3) throw fail(`channels must be 1 or 3 (got ${channels})`);
    if (!Number.isInteger(tileSize) || tileSize < 16 || tileSize % 16 !== 0)
      throw fail(`tile size must be a multiple of 16 (got ${tileSize})`);
    if (compression === 'jpeg' && channels !== 3) throw fail('JPEG compression is for RGB only; use deflate for one-channel images');
    if (options.mpp !== undefined && !(options.mpp > 0 && Number.isFinite(options.mpp))) throw fail(`mpp must be > 0 (got ${options.mpp})`);
    this.path = path;
    this.width = width;
    this.height = height;
    this.channels = channels;
    this.tileSize = tileSize;
    this.compression = compression;
    this.#predictor = compression === 'deflate' && (options.predictor ?? true);
    this.#deflateLevel = options.deflateLevel ?? 6;
    this.#jpegQuality = options.jpegQuality ?? 90;
    this.#mpp = options.mpp;
    this.#description = options.fullPyramid ? describeGrid(options.description, { width, height }) : options.description;
    this.#software = options.software ?? 'mmfd';
    this.#padValue = options.padValue ?? (channels === 3 ? 255 : 0);
    const downsample = channels === 1 ? (options.downsample ?? 'mode') : 'mean';
    const full = options.fullPyramid ?? false;
    this.#pyramid = new BandPyramid({ width, height, channels, bandRows: tileSize, fit: tileSize, exact: !full, downsample });
    this.levels = full ? paddedPyramidLevels(width, height, tileSize) : this.#pyramid.levels;
    this.#levels = this.levels.map((l, i) => ({
      ...l,
      dataWidth: this.#pyramid.levels[i]!.width,
      dataHeight: this.#pyramid.levels[i]!.height,
      tilesAcross: Math.ceil(l.width / tileSize),
      tilesDown: Math.ceil(l.height / tileSize),
      offsets: [],
      byteCounts: [],
    }));
  }

  static async create(path: string, options: PyramidalTiffOptions): Promise<PyramidalTiffWriter> {
    const writer = new PyramidalTiffWriter(path, options);
    writer.#file = await AtomicFile.open(path);
    await writer.#file.handle.write(new Uint8Array(16), 0, 16, 0); // header, patched on close()
    return writer;
  }

  /** Rows of level 0 the next writeBand() expects: the tile size, or what is left at the bottom. */
  get nextBandRows(): number {
    return Math.min(this.tileSize, this.height - this.#rowsReceived);
  }

  /**
   * Appends the next band of level 0: `nextBandRows` rows of `width` pixels, channels interleaved
   * (RGBRGB... or one byte per pixel). The band is cut into tiles before this returns its promise, so the
   * caller may refill the buffer at once; the promise resolves when the writer is ready for the next band.
   */
  async writeBand(band: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new Error(`${this.path}: writeBand() after close()`);
    const rows = this.nextBandRows;
    if (rows <= 0) throw new Error(`${this.path}: all ${this.height} rows were already written`);
    const expected = rows * this.width * this.channels;
    if (band.length !== expected)
      throw new Error(
        `${this.path}: band at row ${this.#rowsReceived} must hold ${rows} rows x ${this.width} px x ${this.channels} channels = ${expected} bytes (got ${band.length})`,
      );
    this.#rowsReceived += rows;
    const tiles: PendingTile[] = [];
    this.#pyramid.push(band, rows, (index, src, bandRows, firstRow) => {
      const level = this.#levels[index]!;
      const tileRow = firstRow / this.tileSize;
      for (let tx = 0; tx < level.tilesAcross; tx++) {
        const x0 = tx * this.tileSize;
        const data = x0 < level.dataWidth ? this.#encodeTile(this.#cutTile(src, level.dataWidth, x0, bandRows)) : this.#paddingTile();
        tiles.push({ level, index: tileRow * level.tilesAcross + tx, data });
      }
    });
    const job = this.#enqueue(tiles);
    this.#inFlight.push(job);
    while (this.#inFlight.length > MAX_BANDS_IN_FLIGHT) await this.#inFlight.shift();
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Writes the directories, patches the header and renames the temporary file to `path`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#rowsReceived !== this.height) {
      await this.abort();
      throw new Error(`${this.path}: closed after ${this.#rowsReceived} of ${this.height} rows; nothing written`);
    }
    this.#closed = true;
    try {
      this.#inFlight.push(this.#enqueue(this.#paddingRows()));
      await Promise.all(this.#inFlight);
      await this.#writeChain;
      if (this.#failure !== undefined) throw this.#failure;
      const file = this.#file!.handle;
      const firstIfd = await this.#writeDirectories(file);
      const header = Buffer.alloc(16);
      header.write('II', 0, 'latin1');
      header.writeUInt16LE(43, 2); // BigTIFF
      header.writeUInt16LE(8, 4); // offset size
      header.writeBigUInt64LE(BigInt(firstIfd), 8);
      await file.write(header, 0, 16, 0);
      await this.#file!.commit();
      this.#file = undefined;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Stops writing and deletes the temporary file; `path` is left untouched. */
  async abort(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#inFlight);
    await this.#writeChain.catch(() => undefined);
    await this.#file?.abort();
    this.#file = undefined;
  }

  /** The tiles of every level's tile rows below its last band: padding only (fullPyramid). */
  #paddingRows(): PendingTile[] {
    const tiles: PendingTile[] = [];
    for (const level of this.#levels) {
      for (
        let index = Math.ceil(level.dataHeight / this.tileSize) * level.tilesAcross;
        index < level.tilesDown * level.tilesAcross;
        index++
      )
        tiles.push({ level, index, data: this.#paddingTile() });
    }
    return tiles;
  }

  /** A tile of padding only, compressed once. */
  #paddingTile(): Promise<Uint8Array> {
    this.#padTile ??= this.#encodeTile(this.#cutTile(new Uint8Array(0), 0, 0, 0));
    return this.#padTile;
  }

  /** The tile from column `x0` of a band of `rows` rows `width` pixels wide, padded to a full tile with the pad value. */
  #cutTile(src: Uint8Array, width: number, x0: number, rows: number): Uint8Array {
    const { tileSize: ts, channels: c } = this;
    const tile = new Uint8Array(ts * ts * c);
    const cols = Math.max(0, Math.min(ts, width - x0));
    if (cols < ts || rows < ts) tile.fill(this.#padValue);
    for (let y = 0; y < rows; y++) {
      const start = (y * width + x0) * c;
      tile.set(src.subarray(start, start + cols * c), y * ts * c);
    }
    if (this.#predictor) {
      // Predictor 2: each sample minus the same sample of the pixel to its left, row by row, in place from the right.
      for (let y = 0; y < ts; y++) {
        const row = y * ts * c;
        for (let i = row + ts * c - 1; i >= row + c; i--) tile[i] = (tile[i]! - tile[i - c]!) & 0xff;
      }
    }
    return tile;
  }

  async #encodeTile(tile: Uint8Array): Promise<Uint8Array> {
    if (this.compression === 'none') return tile;
    if (this.compression === 'deflate') return inSlot(() => deflateAsync(tile, { level: this.#deflateLevel }));
    const ts = this.tileSize;
    return inSlot(() =>
      sharp(tile, { raw: { width: ts, height: ts, channels: 3 } })
        .jpeg({ quality: this.#jpegQuality, chromaSubsampling: '4:4:4' })
        .toBuffer(),
    );
  }

  /** Appends the band's tiles to the file in order, once compressed; resolves when they are written. */
  #enqueue(tiles: PendingTile[]): Promise<void> {
    const job = this.#writeChain.then(async () => {
      if (this.#failure !== undefined) return;
      const file = this.#file!.handle;
      for (const t of tiles) {
        const data = await t.data;
        t.level.offsets[t.index] = this.#position;
        t.level.byteCounts[t.index] = data.length;
        await file.write(data, 0, data.length, this.#position);
        this.#position += data.length;
      }
    });
    const guarded = job.catch((err: unknown) => {
      this.#failure ??= err;
    });
    this.#writeChain = guarded;
    // A tile that fails to compress must not become an unhandled rejection before its turn to be written.
    for (const t of tiles) t.data.catch(() => undefined);
    return guarded;
  }

  /** Writes one IFD per level (each followed by its out-of-line values); returns the first IFD's offset. */
  async #writeDirectories(file: FileHandle): Promise<number> {
    const directories = this.#levels.map((level, i) => this.#entries(level, i));
    const starts: number[] = [];
    let position = this.#position + (this.#position % 2); // IFDs start on a word boundary
    for (const entries of directories) {
      starts.push(position);
      position += ifdSize(entries);
    }
    const blocks = directories.map((entries, i) => encodeIfd(entries, starts[i]!, starts[i + 1] ?? 0));
    const all = Buffer.concat([Buffer.alloc(starts[0]! - this.#position), ...blocks]);
    await file.write(all, 0, all.length, this.#position);
    return starts[0]!;
  }

  #entries(level: Level, index: number): Entry[] {
    const rgb = this.channels === 3;
    const jpeg = this.compression === 'jpeg';
    const entries: Entry[] = [
      { tag: TAG.NewSubfileType, type: TYPE.LONG, values: [index === 0 ? 0 : 1] },
      { tag: TAG.ImageWidth, type: TYPE.LONG, values: [level.width] },
      { tag: TAG.ImageLength, type: TYPE.LONG, values: [level.height] },
      { tag: TAG.BitsPerSample, type: TYPE.SHORT, values: new Array<number>(this.channels).fill(8) },
      { tag: TAG.Compression, type: TYPE.SHORT, values: [{ none: 1, deflate: 8, jpeg: 7 }[this.compression]] },
      // Each JPEG tile is a complete YCbCr JPEG (4:4:4), so Photometric says YCbCr and libtiff converts it back.
      { tag: TAG.Photometric, type: TYPE.SHORT, values: [jpeg ? 6 : rgb ? 2 : 1] },
    ];
    if (index === 0 && this.#description !== undefined)
      entries.push({ tag: TAG.ImageDescription, type: TYPE.ASCII, values: this.#description });
    entries.push({ tag: TAG.SamplesPerPixel, type: TYPE.SHORT, values: [this.channels] }, ...this.#resolutionEntries(index), {
      tag: TAG.PlanarConfiguration,
      type: TYPE.SHORT,
      values: [1],
    });
    if (this.#mpp !== undefined) entries.push({ tag: TAG.ResolutionUnit, type: TYPE.SHORT, values: [3] }); // centimetre
    entries.push({ tag: TAG.Software, type: TYPE.ASCII, values: this.#software });
    if (this.#predictor) entries.push({ tag: TAG.Predictor, type: TYPE.SHORT, values: [2] });
    entries.push(
      { tag: TAG.TileWidth, type: TYPE.LONG, values: [this.tileSize] },
      { tag: TAG.TileLength, type: TYPE.LONG, values: [this.tileSize] },
      { tag: TAG.TileOffsets, type: TYPE.LONG8, values: level.offsets },
      { tag: TAG.TileByteCounts, type: TYPE.LONG8, values: level.byteCounts },
      { tag: TAG.SampleFormat, type: TYPE.SHORT, values: new Array<number>(this.channels).fill(1) },
    );
    if (jpeg) entries.push({ tag: TAG.YCbCrSubSampling, type: TYPE.SHORT, values: [1, 1] });
    return entries.sort((a, b) => a.tag - b.tag);
  }

  /**
   * X/YResolution in pixels per centimetre at this level, 10,000 um / (mpp x 2^level), as the rational
   * (10^4 x 10^k) / (mpp x 2^level x 10^k): exact for an mpp of up to five decimals (k = 5, e.g. 0.2520)
   * while the denominator fits in 32 bits.
   */
  #resolutionEntries(index: number): Entry[] {
    if (this.#mpp === undefined) return [];
    let k = 5;
    while (k > 0 && Math.round(this.#mpp * 2 ** index * 10 ** k) > 0xffffffff) k--;
    const rational = [10000 * 10 ** k, Math.max(1, Math.round(this.#mpp * 2 ** index * 10 ** k))];
    return [
      { tag: TAG.XResolution, type: TYPE.RATIONAL, values: rational },
      { tag: TAG.YResolution, type: TYPE.RATIONAL, values: rational },
    ];
  }
}

function valueBytes(e: Entry): number {
  const count = typeof e.values === 'string' ? Buffer.byteLength(e.values, 'latin1') + 1 : e.values.length;
  return count * TYPE_SIZE[e.type]!;
}

/** A BigTIFF IFD: count (8) + 20 per entry + next offset (8), then every value longer than 8 bytes. */
function ifdSize(entries: Entry[]): number {
  let size = 8 + 20 * entries.length + 8;
  for (const e of entries) {
    const n = valueBytes(e);
    if (n > 8) size += n + (n % 2);
  }
  return size;
}

function encodeIfd(entries: Entry[], start: number, next: number): Buffer {
  const buf = Buffer.alloc(ifdSize(entries));
  buf.writeBigUInt64LE(BigInt(entries.length), 0);
  let extra = 8 + 20 * entries.length + 8;
  entries.forEach((e, i) => {
    const at = 8 + 20 * i;
    const n = valueBytes(e);
    buf.writeUInt16LE(e.tag, at);
    buf.writeUInt16LE(e.type, at + 2);
    const count = typeof e.values === 'string' ? n : e.type === TYPE.RATIONAL ? e.values.length / 2 : e.values.length;
    buf.writeBigUInt64LE(BigInt(count), at + 4);
    let target = at + 12;
    if (n > 8) {
      buf.writeBigUInt64LE(BigInt(start + extra), at + 12);
      target = extra;
      extra += n + (n % 2);
    }
    writeValues(buf, target, e);
  });
  buf.writeBigUInt64LE(BigInt(next), 8 + 20 * entries.length);
  return buf;
}

function writeValues(buf: Buffer, at: number, e: Entry): void {
  if (typeof e.values === 'string') {
    buf.write(e.values, at, 'latin1'); // the NUL terminator is already there (Buffer.alloc zeroes)
    return;
  }
  e.values.forEach((v, i) => {
    if (e.type === TYPE.SHORT) buf.writeUInt16LE(v, at + 2 * i);
    else if (e.type === TYPE.LONG || e.type === TYPE.RATIONAL) buf.writeUInt32LE(v, at + 4 * i);
    else buf.writeBigUInt64LE(BigInt(v), at + 8 * i);
  });
}
