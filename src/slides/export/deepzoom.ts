// The slide viewer's files: the slide as one DeepZoom (DZI) layer of JPEG tiles at its own resolution (level 0
// of the scan by default), each class as a separate layer of transparent PNG tiles on the label map's grid (so
// the page toggles classes and sets their opacity without re-rendering anything), the label map as a small
// script for the cursor read-out (labels.js: browsers refuse scripts' requests for file:// URLs, but load
// <script> files), the OpenSeadragon page (viewer_page.ts) and a thumbnail of the slide with the classes
// blended in (the project's overlay rule, alpha 0.5, viz/overlay.ts).
//
// Streaming: the slide and the label map are each fed band by band (one tile row) to a streaming pyramid
// (pyramid.ts), which hands back each band of each level down to 1 x 1 pixel (DZI's level 0) to be cut into
// tiles. Memory is a band per level, the thumbnail's two levels and the read-out's raster (at most
// LABEL_SCRIPT_PIXELS), never the slide. Tiles have no overlap (Overlap="0"), so a band needs no rows of the
// next one. The thumbnail is `thumbnailMax` on its longest side (never enlarged), made from the smallest
// levels of both pyramids at least that large.
//
// Everything goes to a folder beside `dir` first and is swapped in when complete (torch/io/files.ts), so a
// reader never sees half a pyramid; an older `dir` is replaced.
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { CLASS_STYLES } from '../../data/classes.js';
import { folderTempName, swapFolderIn } from '../../torch/io/files.js';
import type { LabelRaster } from '../io/label_raster.js';
import type { RgbBands } from '../io/rgb_bands.js';
import { BandPyramid, type BandVisitor, type LevelSize, pyramidLevels } from './pyramid.js';
import { viewerHtml } from './viewer_page.js';

export const DZI_TILE_SIZE = 256;
/** The slide layer: slide.dzi and slide_files/. */
export const DZI_NAME = 'slide';
/** Class c's layer: class<c>_files/. */
export const classLayer = (c: number) => `class${c}`;
export const VIEWER_PAGE = 'viewer.html';
export const LABELS_SCRIPT = 'labels.js';
export const THUMBNAIL = 'thumbnail_overlay.png';
/** The cursor read-out's label raster is the finest label level of at most this many pixels (bytes). */
export const LABEL_SCRIPT_PIXELS = 1 << 24;

export interface OverlayViewOptions {
  /** Title of the viewer page. */
  title: string;
  /** Microns per pixel of the slide layer (for the scale bar and the cursor position). */
  mpp: number;
  /** Slide-layer pixels per label pixel (the label map may be coarser than the slide); default 1. */
  labelScale?: number;
  /** What the page shows beside the image: [measure, value] lines (the slide's measurements). */
  details?: readonly (readonly [string, string])[];
  /** Longest side of the thumbnail (at most the image's own); default 1024. */
  thumbnailMax?: number;
  /** JPEG quality of the slide's tiles; default 85. */
  quality?: number;
  /** Called after each band with (rows done, rows in all), the slide's rows then the labels'. */
  onProgress?: (done: number, total: number) => void;
}

export interface OverlayViews {
  dir: string;
  /** DZI level sizes of the slide layer, level 0 (1 x 1) first. */
  levels: { width: number; height: number }[];
  /** DZI level sizes of each class layer, level 0 (1 x 1) first. */
  labelLevels: { width: number; height: number }[];
  thumbnail: { width: number; height: number };
}

/** DZI level sizes for a width x height image: halving, rounding up, down to 1 x 1; level 0 (1 x 1) first. */
export function dziLevels(width: number, height: number): LevelSize[] {
  return pyramidLevels(width, height, 1).reverse();
}

/**
 * Blends the class overlay into `rgb` in place: each pixel takes the last class it carries in class order,
 * as (colour + original) >> 1, which is what drawing every class over the original at alpha 0.5 leaves.
 */
export function blendLabels(rgb: Uint8Array, labels: Uint8Array): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v === 0) continue;
    for (let c = CLASS_STYLES.length - 1; c >= 0; c--) {
      const style = CLASS_STYLES[c]!;
      if ((v & style.bit) === 0) continue;
      const o = i * 3;
      rgb[o] = (style.colour[0] + rgb[o]!) >> 1;
      rgb[o + 1] = (style.colour[1] + rgb[o + 1]!) >> 1;
      rgb[o + 2] = (style.colour[2] + rgb[o + 2]!) >> 1;
      break;
    }
  }
}

/** Writes `dir` with the slide and class layers, the read-out's labels, the viewer page, OpenSeadragon and the thumbnail. */
export async function writeOverlayViews(
  rgb: RgbBands,
  labels: LabelRaster,
  dir: string,
  options: OverlayViewOptions,
): Promise<OverlayViews> {
  const labelScale = options.labelScale ?? 1;
  if (!(labelScale > 0)) throw new Error(`${dir}: the label scale must be positive (got ${labelScale})`);
  // The label map covers the slide to within its rounding: whole label pixels, at each of its pyramid's halvings.
  const off = (n: number, slideSide: number) => Math.abs(n * labelScale - slideSide) > 2 * labelScale + 1;
  if (off(labels.width, rgb.width) || off(labels.height, rgb.height))
    throw new Error(
      `${labels.source}: labels are ${labels.width} x ${labels.height} at ${labelScale} slide pixels each, but the slide view is ${rgb.width} x ${rgb.height}`,
    );
  if (!(options.mpp > 0)) throw new Error(`${dir}: the slide's microns per pixel must be positive (got ${options.mpp})`);
  const quality = options.quality ?? 85;
  const thumbnailMax = options.thumbnailMax ?? 1024;
  if (!(thumbnailMax >= 1)) throw new Error(`${dir}: the thumbnail's longest side must be at least 1 pixel (got ${thumbnailMax})`);
  const thumbSize = fitInside(rgb.width, rgb.height, thumbnailMax);
  const slideLevels = pyramidLevels(rgb.width, rgb.height, 1);
  const labelLevels = pyramidLevels(labels.width, labels.height, 1);
  const slideThumb = new KeptLevel(slideLevels, levelAtLeast(slideLevels, thumbnailMax), 3);
  const labelThumb = new KeptLevel(labelLevels, levelAtLeast(labelLevels, Math.max(thumbSize.width, thumbSize.height)), 1);
  const readout = new KeptLevel(
    labelLevels,
    labelLevels.findIndex((l) => l.width * l.height <= LABEL_SCRIPT_PIXELS),
    1,
  );
  const totalRows = rgb.height + labels.height;
  let rowsDone = 0;
  const progress = (rows: number) => {
    rowsDone += rows;
    options.onProgress?.(rowsDone, totalRows);
  };

  await mkdir(dirname(dir), { recursive: true });
  const tmp = folderTempName(dir);
  try {
    const slideTiles = await tileFolders(tmp, DZI_NAME, slideLevels);
    await streamPyramid(rgb, 3, 'mean', progress, (index, band, rows, firstRow) => {
      slideThumb.keep(index, band, rows, firstRow);
      return cutTiles(band, slideLevels[index]!.width, rows, 3, (tile, w, col) =>
        sharp(tile, { raw: { width: w, height: rows, channels: 3 } })
          .jpeg({ quality })
          .toBuffer()
          .then((jpeg) => writeFile(join(slideTiles(index), `${col}_${firstRow / DZI_TILE_SIZE}.jpg`), jpeg)),
      );
    });

    const classTiles = await Promise.all(CLASS_STYLES.map((s) => tileFolders(tmp, classLayer(s.index), labelLevels)));
    const encoder = new ClassTileEncoder();
    await streamPyramid(labels, 1, 'mode', progress, (index, band, rows, firstRow) => {
      labelThumb.keep(index, band, rows, firstRow);
      readout.keep(index, band, rows, firstRow);
      return cutTiles(band, labelLevels[index]!.width, rows, 1, (tile, w, col) =>
        Promise.all(
          CLASS_STYLES.map((style) =>
            encoder
              .encode(tile, w, rows, style)
              .then((png) => writeFile(join(classTiles[style.index]!(index), `${col}_${firstRow / DZI_TILE_SIZE}.png`), png)),
          ),
        ).then(() => undefined),
      );
    });

    const readoutScale = labelScale * 2 ** readout.index;
    await writeFile(join(tmp, LABELS_SCRIPT), labelsScript(readout, readoutScale));
    await writeFile(join(tmp, `${DZI_NAME}.dzi`), dziXml(rgb.width, rgb.height, 'jpg'));
    for (const s of CLASS_STYLES) await writeFile(join(tmp, `${classLayer(s.index)}.dzi`), dziXml(labels.width, labels.height, 'png'));
    await writeFile(
      join(tmp, VIEWER_PAGE),
      viewerHtml({
        title: options.title,
        mpp: options.mpp,
        slide: { width: rgb.width, height: rgb.height },
        labels: { width: labels.width, height: labels.height, scale: labelScale },
        readoutMpp: options.mpp * readoutScale,
        details: options.details ?? [],
        tileSize: DZI_TILE_SIZE,
      }),
    );
    await copyOpenSeadragon(join(tmp, 'openseadragon'));
    await writeThumbnail(slideThumb, labelThumb, thumbSize, rgb.width / (labelScale * 2 ** labelThumb.index), join(tmp, THUMBNAIL));
    await swapFolderIn(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, levels: [...slideLevels].reverse(), labelLevels: [...labelLevels].reverse(), thumbnail: thumbSize };
}

/** Index (largest first) of the smallest level at least `max` on its longest side, or the largest level. */
function levelAtLeast(levels: readonly LevelSize[], max: number): number {
  const below = levels.findIndex((l) => Math.max(l.width, l.height) < max);
  return below === -1 ? levels.length - 1 : Math.max(0, below - 1);
}

/** One pyramid level kept whole as its bands go by. */
class KeptLevel {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;

  constructor(
    levels: readonly LevelSize[],
    readonly index: number,
    readonly channels: number,
  ) {
    ({ width: this.width, height: this.height } = levels[index]!);
    this.data = new Uint8Array(this.width * this.height * channels);
  }

  keep(index: number, band: Uint8Array, rows: number, firstRow: number): void {
    const n = this.width * this.channels;
    if (index === this.index) this.data.set(band.subarray(0, rows * n), firstRow * n);
  }
}

/** Makes the DZI folder of each level of a layer; returns it by pyramid index (DZI numbers levels from the smallest). */
async function tileFolders(root: string, layer: string, levels: readonly LevelSize[]): Promise<(index: number) => string> {
  const folder = (index: number) => join(root, `${layer}_files`, String(levels.length - 1 - index));
  await Promise.all(levels.map((_, i) => mkdir(folder(i), { recursive: true })));
  return folder;
}

/** Feeds `source` band by band through a pyramid; `visit` starts each band's tile writes, awaited before the next band. */
async function streamPyramid(
  source: { width: number; height: number; readRows(y0: number, rows: number): Promise<Uint8Array> },
  channels: number,
  downsample: 'mean' | 'mode',
  progress: (rows: number) => void,
  visit: (...args: Parameters<BandVisitor>) => Promise<void>[],
): Promise<void> {
  const ts = DZI_TILE_SIZE;
  const { width, height } = source;
  const pyramid = new BandPyramid({ width, height, channels, bandRows: ts, fit: 1, downsample });
  const writes: Promise<void>[] = [];
  for (let y0 = 0; y0 < height; y0 += ts) {
    const rows = Math.min(ts, height - y0);
    pyramid.push(await source.readRows(y0, rows), rows, (...args) => writes.push(...visit(...args)));
    await Promise.all(writes.splice(0));
    progress(rows);
  }
}

/** Cuts a band of a level into tiles (edge tiles cut to the image) and starts `write` on each. */
function cutTiles(
  band: Uint8Array,
  levelWidth: number,
  rows: number,
  channels: number,
  write: (tile: Uint8Array, width: number, col: number) => Promise<void>,
): Promise<void>[] {
  const ts = DZI_TILE_SIZE;
  const writes: Promise<void>[] = [];
  for (let x0 = 0, col = 0; x0 < levelWidth; x0 += ts, col++) {
    const w = Math.min(ts, levelWidth - x0);
    const tile = new Uint8Array(w * rows * channels);
    for (let r = 0; r < rows; r++)
      tile.set(band.subarray((r * levelWidth + x0) * channels, (r * levelWidth + x0 + w) * channels), r * w * channels);
    writes.push(write(tile, w, col));
  }
  return writes;
}

/** A class's layer tile: its colour, opaque where the class's bit is set, transparent elsewhere. */
class ClassTileEncoder {
  // Most tiles of most classes are empty (glass, or tissue without the class): one PNG per tile size serves them.
  readonly #empty = new Map<string, Promise<Buffer>>();

  encode(bits: Uint8Array, width: number, height: number, style: (typeof CLASS_STYLES)[number]): Promise<Buffer> {
    if (!bits.some((v) => (v & style.bit) !== 0)) {
      const key = `${width}x${height}`;
      let empty = this.#empty.get(key);
      if (empty === undefined) {
        empty = sharp(new Uint8Array(width * height * 4), { raw: { width, height, channels: 4 } })
          .png()
          .toBuffer();
        this.#empty.set(key, empty);
      }
      return empty;
    }
    const rgba = new Uint8Array(width * height * 4);
    const [r, g, b] = style.colour;
    for (let i = 0; i < bits.length; i++) {
      if ((bits[i]! & style.bit) === 0) continue;
      rgba[i * 4] = r;
      rgba[i * 4 + 1] = g;
      rgba[i * 4 + 2] = b;
      rgba[i * 4 + 3] = 255;
    }
    return sharp(rgba, { raw: { width, height, channels: 4 } })
      .png()
      .toBuffer();
  }
}

/**
 * labels.js: the read-out's label raster (bit flags, gzip, base64) for the page to look up the classes under
 * the cursor; `scale` is slide-layer pixels per raster pixel.
 */
function labelsScript(level: KeptLevel, scale: number): string {
  const data = gzipSync(level.data).toString('base64');
  return `window.MMFD_LABELS = ${JSON.stringify({ width: level.width, height: level.height, scale, gzip: data })};\n`;
}

/**
 * The thumbnail: the slide level resized to `size`, the label level cut to the slide's extent (`labelColumns`
 * of its pixels across the slide) and resized to `size` by nearest neighbour, blended by the overlay rule.
 */
async function writeThumbnail(
  slide: KeptLevel,
  labels: KeptLevel,
  size: { width: number; height: number },
  labelColumns: number,
  path: string,
): Promise<void> {
  const rgb = await sharp(slide.data, { raw: { width: slide.width, height: slide.height, channels: 3 } })
    .resize(size.width, size.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const keptWidth = Math.max(1, Math.min(labels.width, Math.round(labelColumns)));
  const keptHeight = Math.max(1, Math.min(labels.height, Math.round((labelColumns * slide.height) / slide.width)));
  const bits = await sharp(labels.data, { raw: { width: labels.width, height: labels.height, channels: 1 } })
    .extract({ left: 0, top: 0, width: keptWidth, height: keptHeight })
    .resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const blended = new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  blendLabels(blended, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
  await sharp(blended, { raw: { ...size, channels: 3 } })
    .png()
    .toFile(path);
}

/** A width x height image scaled so its longest side is `max` (not enlarged), the other side rounded. */
export function fitInside(width: number, height: number, max: number): { width: number; height: number } {
  const k = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

function dziXml(width: number, height: number, format: 'jpg' | 'png'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="${format}" Overlap="0" TileSize="${DZI_TILE_SIZE}">
  <Size Width="${width}" Height="${height}"/>
</Image>
`;
}

/** OpenSeadragon's script, button images and licence (BSD: the notice travels with the copy). */
async function copyOpenSeadragon(to: string): Promise<void> {
  const build = dirname(createRequire(import.meta.url).resolve('openseadragon'));
  await mkdir(to, { recursive: true });
  await cp(join(build, 'openseadragon.min.js'), join(to, 'openseadragon.min.js'));
  await cp(join(build, 'images'), join(to, 'images'), { recursive: true });
  await cp(join(build, '..', '..', 'LICENSE.txt'), join(to, 'LICENSE.txt'));
}
