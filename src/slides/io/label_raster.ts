// A slide's label map as rows of bit flags, read band by band so that exports and measurements never hold
// a whole slide. The encoding is the one the synthetic ground truth (src/synth/slide/) and the segmenter
// write, defined in data/classes.ts (LABEL_BITS): bit c is final class c (villus, fibrin deposit, capillary,
// trophoblast aggregation), so classes may overlap; bit 4 marks tissue; 0 is glass.
import { existsSync } from 'node:fs';
import sharp from 'sharp';

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
  /** Size of level 0. */
  readonly baseWidth: number;
  readonly baseHeight: number;
}

/**
 * Opens one level of a pyramidal label TIFF (one 8-bit channel per page, each page a 2x reduction of the one
 * before, as tiff_writer.ts writes them). Errors name the file and the problem.
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
  const pages = base.pages ?? 1;
  if (!Number.isInteger(level) || level < 0 || level >= pages)
    throw new Error(`${path}: no pyramid level ${level} (levels 0..${pages - 1})`);
  const info = level === 0 ? base : await pageInfo(level);
  const downsample = 2 ** level;
  const [width, height] = [info.width ?? 0, info.height ?? 0];
  if (width !== Math.ceil((base.width ?? 0) / downsample) || height !== Math.ceil((base.height ?? 0) / downsample))
    throw new Error(`${path}: level ${level} is ${width} x ${height}, not a ${downsample}x reduction of ${base.width} x ${base.height}`);
  return {
    width,
    height,
    level,
    downsample,
    baseWidth: base.width ?? 0,
    baseHeight: base.height ?? 0,
    source: path,
    async readRows(y0, rows) {
      try {
        const data = await sharp(path, { page: level, limitInputPixels: false })
          .extract({ left: 0, top: y0, width, height: rows })
          .extractChannel(0)
          .raw()
          .toBuffer();
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      } catch (err) {
        throw new Error(`${path}: reading label rows ${y0}..${y0 + rows - 1} of level ${level} failed: ${(err as Error).message}`);
      }
    },
  };
}
