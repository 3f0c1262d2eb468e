// A synthetic H&E placenta whole slide: tissue sections on white glass, painted band by band
// (paint.ts) into a tiled pyramidal BigTIFF with its mpp, and its ground truth beside it as a
// one-channel pyramidal TIFF of label bits plus a JSON class table. Memory is bounded by the slide width
// (one band of tiles per pyramid level), not its area, so 40,000 x 40,000 slides are fine.
import { rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { LABEL_CLASSES } from '../../data/classes.js';
import { pyramidLevels } from '../../slides/export/pyramid.js';
import { PyramidalTiffWriter, type TiffCompression } from '../../slides/export/tiff_writer.js';
import { SlidePainter } from './paint.js';
import { FORMAT_EXTENSIONS, SLIDE_FORMATS, type SlideFormat, vendorLayout } from './vendor.js';

export interface SynthSlideOptions {
  /** The slide file, `.tif` or `.tiff` (`.svs` for SVS); the labels go to `<stem>_labels.tif` and `<stem>_labels.json`. */
  out: string;
  /** The file layout (vendor.ts): generic TIFF (default), Aperio SVS or Philips TIFF. */
  format?: SlideFormat;
  width: number;
  height: number;
  seed: number;
  /** Microns per pixel at level 0; default 0.5 (a 20x scan). */
  mpp?: number;
  /** Default 256. */
  tileSize?: number;
  /** Compression of the RGB slide; default deflate (JPEG for SVS, which is always JPEG). Labels are always deflate. */
  compression?: Extract<TiffCompression, 'deflate' | 'jpeg'>;
  /** Called after each band of tiles with (bands done, bands in all). */
  onProgress?: (done: number, total: number) => void;
}

export interface SynthSlideResult {
  slide: string;
  labels: string;
  table: string;
  /** Level-0 pixels carrying each label bit, by class code. */
  pixelCounts: Record<string, number>;
}

/** Width of the windows a band is painted in: wide enough to amortise laying out objects, small enough to stay in cache. */
const WINDOW = 1024;

/** Where the label image and its table go for a slide written to `out`. */
export function labelPaths(out: string): { labels: string; table: string } {
  const stem = join(dirname(out), basename(out, extname(out)));
  return { labels: `${stem}_labels.tif`, table: `${stem}_labels.json` };
}

async function check(o: SynthSlideOptions): Promise<void> {
  const fail = (problem: string) => new Error(`${o.out}: cannot write synthetic slide: ${problem}`);
  const format = o.format ?? 'tiff';
  if (!SLIDE_FORMATS.includes(format)) throw fail(`format must be one of ${SLIDE_FORMATS.join(', ')} (got ${format})`);
  if (!FORMAT_EXTENSIONS[format].test(o.out))
    throw fail(format === 'svs' ? 'an SVS slide must be a .svs file' : 'the output must be a .tif or .tiff file');
  for (const [name, v] of [
    ['width', o.width],
    ['height', o.height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 1_000_000) throw fail(`${name} must be an integer from 1 to 1,000,000 (got ${v})`);
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw fail(`seed must be a non-negative integer (got ${o.seed})`);
  const mpp = o.mpp ?? 0.5;
  if (!(mpp >= 0.05 && mpp <= 50)) throw fail(`mpp must be between 0.05 and 50 microns per pixel (got ${mpp})`);
  const dir = dirname(o.out);
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw fail(`folder ${dir} does not exist`);
}

/** Writes the slide, its label image and its label table; the same options always give the same bytes. */
export async function writeSyntheticSlide(o: SynthSlideOptions): Promise<SynthSlideResult> {
  await check(o);
  const { width, height, seed } = o;
  const mpp = o.mpp ?? 0.5;
  const tileSize = o.tileSize ?? 256;
  const { labels: labelsPath, table: tablePath } = labelPaths(o.out);
  const bitList = LABEL_CLASSES.map((c) => `${c.value} ${c.name.toLowerCase()}`).join(', ');
  const note = `mmfd synthetic placenta slide; seed=${seed}; mpp=${mpp}; labels=${basename(labelsPath)}`;
  const levels = pyramidLevels(width, height, tileSize, true).length;
  const slide = await PyramidalTiffWriter.create(o.out, {
    width,
    height,
    channels: 3,
    tileSize,
    compression: o.compression ?? 'deflate',
    ...vendorLayout(o.format ?? 'tiff', { width, height, mpp, levels, note }),
  });
  const labels = await PyramidalTiffWriter.create(labelsPath, {
    width,
    height,
    channels: 1,
    tileSize,
    compression: 'deflate',
    mpp,
    downsample: 'mode',
    fullPyramid: true, // an output raster, padded as segment's labels are; the slide keeps its exact size
    description: `mmfd synthetic placenta labels; bit flags: ${bitList}; seed=${seed}; mpp=${mpp}`,
  });
  try {
    const counts = await paintBands(new SlidePainter(width, height, seed, mpp), slide, labels, o.onProgress);
    await labels.close();
    await slide.close();
    const pixelCounts = Object.fromEntries(LABEL_CLASSES.map((c) => [c.code, counts[c.bit]!]));
    const table = {
      format: 'mmfd synthetic slide labels, version 1',
      slide: basename(o.out),
      labels: basename(labelsPath),
      width,
      height,
      mpp,
      seed,
      encoding:
        'bit flags: a pixel holds the sum of the values of every class it belongs to (a capillary pixel inside a villus is 1 + 4 + 16 = 21); 0 is glass. Pyramid levels are 2x2 modes of the level above.',
      classes: LABEL_CLASSES,
      pixel_counts: pixelCounts,
    };
    const tmp = `${tablePath}.tmp`;
    await writeFile(tmp, `${JSON.stringify(table, null, 2)}\n`);
    await rename(tmp, tablePath);
    return { slide: o.out, labels: labelsPath, table: tablePath, pixelCounts };
  } catch (err) {
    await Promise.all([slide.abort(), labels.abort()]);
    throw err;
  }
}

/** Paints and writes every band of level 0; returns the number of pixels carrying each label bit. */
async function paintBands(
  painter: SlidePainter,
  slide: PyramidalTiffWriter,
  labels: PyramidalTiffWriter,
  onProgress: SynthSlideOptions['onProgress'],
): Promise<number[]> {
  const { width, height } = painter;
  const ts = slide.tileSize;
  const bandRgb = new Uint8Array(width * ts * 3);
  const bandLabels = new Uint8Array(width * ts);
  const windowRgb = new Uint8Array(WINDOW * ts * 3);
  const windowLabels = new Uint8Array(WINDOW * ts);
  const counts = new Array<number>(8).fill(0);
  const total = Math.ceil(height / ts);
  for (let band = 0; band < total; band++) {
    const y0 = band * ts;
    const rows = Math.min(ts, height - y0);
    for (let x0 = 0; x0 < width; x0 += WINDOW) {
      const w = Math.min(WINDOW, width - x0);
      painter.paintWindow(x0, y0, w, rows, windowRgb, windowLabels);
      for (let r = 0; r < rows; r++) {
        bandRgb.set(windowRgb.subarray(r * w * 3, (r + 1) * w * 3), (r * width + x0) * 3);
        bandLabels.set(windowLabels.subarray(r * w, (r + 1) * w), r * width + x0);
      }
    }
    const n = rows * width;
    const histogram = new Array<number>(256).fill(0);
    for (let i = 0; i < n; i++) histogram[bandLabels[i]!]!++;
    histogram.forEach((count, value) => {
      for (let bit = 0; bit < 8; bit++) if (value & (1 << bit)) counts[bit]! += count;
    });
    await Promise.all([slide.writeBand(bandRgb.subarray(0, n * 3)), labels.writeBand(bandLabels.subarray(0, n))]);
    onProgress?.(band + 1, total);
  }
  return counts;
}
