// A slide's label map as rows of bit flags, read band by band so that exports and measurements never hold
// a whole slide. The encoding is the one the synthetic ground truth (src/synth/slide/) and the segmenter
// write, defined in data/classes.ts (LABEL_BITS): bit c is final class c (villus, fibrin deposit, capillary,
// trophoblast aggregation), so classes may overlap; bit 4 marks tissue; 0 is glass.
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { halveRows, pyramidLevels } from '../export/pyramid.js';
import { recordedGrid } from './raster_grid.js';

export interface LabelRaster {
  readonly width: number;
  readonly height: number;
  /** Where the labels come from, for error messages. */
  readonly source: string;
  /** Rows y0 .. y0 + rows - 1, `width` bytes each. */
  readRows(y0: number, rows: number): Promise<Uint8Array>;
}

/** Rows per band when streaming: one tile row of the project's pyramidal TIFFs. */
export const BAND_ROWS = 256;

/** Yields the raster band by band, top to bottom. */
export async function* labelBands(
  raster: LabelRaster,
  bandRows = BAND_ROWS,
): AsyncGenerator<{ y0: number; rows: number; data: Uint8Array }> {
  for (let y0 = 0; y0 < raster.height; y0 += bandRows) {
    const rows = Math.min(bandRows, raster.height - y0);
    yield { y0, rows, data: await raster.readRows(y0, rows) };
  }
}

/** A label map held in memory (tests, small images). */
export function labelRasterFromArray(data: Uint8Array, width: number, height: number, source = 'label array'): LabelRaster {
  if (data.length !== width * height) throw new Error(`${source}: ${data.length} bytes for ${width} x ${height} labels`);
  return {
    width,
    height,
    source,
    readRows: async (y0, rows) => data.subarray(y0 * width, (y0 + rows) * width),
  };
}

export interface LabelTiff extends LabelRaster {
  /** The pyramid level read, and how many level-0 pixels one of its pixels spans along x and y. */
  readonly level: number;
  readonly downsample: number;
  /** Size of level 0, without the padding the file may hold (raster_grid.ts). */
  readonly baseWidth: number;
  readonly baseHeight: number;
  /** Size of level 0 as stored, padding included. */
  readonly fileWidth: number;
  readonly fileHeight: number;
}

/**
 * Opens one level of a pyramidal label TIFF (one 8-bit channel per page, each page a 2x reduction of the one
 * before, as tiff_writer.ts writes them). A level the file does not hold (tiff_writer.ts stops its pyramid at the
 * first odd side) is made from the file's smallest level by the writer's own 2x2 mode, band by band, rounding
 * up as the pyramid would have, down to one that fits in a band. A padded file (a full pyramid, tiff_writer.ts) is
 * read within the true size it records: level k is ceil(size / 2^k) of its pixels. Errors name the file and the problem.
 */
export async function openLabelTiff(path: string, level = 0): Promise<LabelTiff> {
  if (!existsSync(path)) throw new Error(`${path}: no such label map`);
  const pageInfo = async (page: number) => {
    try {
      return await sharp(path, { page, limitInputPixels: false }).metadata();
    } catch (err) {
      throw new Error(`${path}: not a label TIFF that can be read (page ${page}): ${(err as Error).message}`);
    }
  };
  const base = await pageInfo(0);
  if (base.format !== 'tiff') throw new Error(`${path}: a label map must be a TIFF (found ${base.format})`);
  if (base.channels !== 1 || base.depth !== 'uchar')
    throw new Error(`${path}: a label map must have one 8-bit channel (found ${base.channels} channel(s) of ${base.depth})`);
  const [fileWidth, fileHeight] = [base.width ?? 0, base.height ?? 0];
  const grid = recordedGrid(path) ?? { width: fileWidth, height: fileHeight };
  if (grid.width > fileWidth || grid.height > fileHeight)
    throw new Error(
      `${path}: its description says ${grid.width} x ${grid.height} labels, more than the ${fileWidth} x ${fileHeight} it holds`,
    );
  // The levels a pyramid halved (rounding up) down to one band would hold: those stored, then those made here.
  const last = pyramidLevels(grid.width, grid.height, BAND_ROWS).length - 1;
  if (!Number.isInteger(level) || level < 0 || level > last) throw new Error(`${path}: no pyramid level ${level} (levels 0..${last})`);
  const stored = Math.min(level, (base.pages ?? 1) - 1);
  const info = stored === 0 ? base : await pageInfo(stored);
  const reduced = (n: number, k: number) => Math.ceil(n / 2 ** k);
  if (info.width !== reduced(fileWidth, stored) || info.height !== reduced(fileHeight, stored))
    throw new Error(
      `${path}: level ${stored} is ${info.width} x ${info.height}, not a ${2 ** stored}x reduction of ${fileWidth} x ${fileHeight}`,
    );
  // The stored level's true pixels; the padding beyond them is never read.
  const [storedWidth, storedHeight] = [reduced(grid.width, stored), reduced(grid.height, stored)];
  const readStored = async (y0: number, rows: number) => {
    try {
      const data = await sharp(path, { page: stored, limitInputPixels: false })
        .extract({ left: 0, top: y0, width: storedWidth, height: rows })
        .extractChannel(0)
        .raw()
        .toBuffer();
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (err) {
      throw new Error(`${path}: reading label rows ${y0}..${y0 + rows - 1} of level ${stored} failed: ${(err as Error).message}`);
    }
  };
  const made = level - stored;
  return {
    width: reduced(storedWidth, made),
    height: reduced(storedHeight, made),
    level,
    downsample: 2 ** level,
    baseWidth: grid.width,
    baseHeight: grid.height,
    fileWidth,
    fileHeight,
    source: path,
    async readRows(y0, rows) {
      if (made === 0) return readStored(y0, rows);
      // Blocks of 2^made stored rows starting at a multiple of 2^made halve into exactly these rows.
      const first = y0 * 2 ** made;
      let data = await readStored(first, Math.min((y0 + rows) * 2 ** made, storedHeight) - first);
      let [w, h] = [storedWidth, data.length / storedWidth];
      for (let k = 0; k < made; k++) {
        const out = new Uint8Array(Math.ceil(w / 2) * Math.ceil(h / 2));
        h = halveRows(data, w, h, 1, 'mode', out);
        w = Math.ceil(w / 2);
        data = out;
      }
      return data;
    },
  };
}
