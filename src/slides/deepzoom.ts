// The overlay pictures of a slide: its RGB with the class overlay blended in (the project's overlay rule,
// alpha 0.5, viz/overlay.ts), as a DeepZoom (DZI) tile pyramid with a static OpenSeadragon page that opens
// from disk with no server, plus a thumbnail PNG.
//
// Streaming: the blended image is made band by band (one tile row), cut into tiles, and halved into the
// next level's band, which is flushed the same way when full, down to 1 x 1 pixel (DZI's level 0). Memory is
// a band per level, never the slide. Tiles have no overlap (Overlap="0"), so a band needs no rows of the next
// one. The thumbnail is the largest level that fits `thumbnailMax`, kept whole as it is made.
//
// Everything goes to `<dir>.<pid>.<random>.tmp` first and is renamed to `dir` when complete, so a reader
// never sees half a pyramid; an older `dir` is replaced.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { CLASS_STYLES } from '../data/classes.js';
import { escapeMarkup } from '../viz/svg.js';
import type { LabelRaster } from './label_raster.js';
import type { RgbBands } from './rgb_bands.js';

export const DZI_TILE_SIZE = 256;
export const DZI_NAME = 'slide';
export const VIEWER_PAGE = 'viewer.html';
export const THUMBNAIL = 'thumbnail_overlay.png';

export interface OverlayViewOptions {
  /** Title of the viewer page. */
  title: string;
  /** Longest side of the thumbnail; default 1024. */
  thumbnailMax?: number;
  /** JPEG quality of the tiles; default 85. */
  quality?: number;
  /** Called after each band with (rows done, rows in all). */
  onProgress?: (done: number, total: number) => void;
}

export interface OverlayViews {
  dir: string;
  /** DZI level sizes, level 0 (1 x 1) first. */
  levels: { width: number; height: number }[];
  thumbnail: { width: number; height: number };
}

/** DZI level sizes for a width x height image: halving, rounding up, down to 1 x 1; level 0 first. */
export function dziLevels(width: number, height: number): { width: number; height: number }[] {
  const levels = [{ width, height }];
  while (levels[0]!.width > 1 || levels[0]!.height > 1) {
    const { width: w, height: h } = levels[0]!;
    levels.unshift({ width: Math.ceil(w / 2), height: Math.ceil(h / 2) });
  }
  return levels;
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

interface Level {
  index: number;
  width: number;
  height: number;
  band: Uint8Array;
  bandRows: number;
  rowsDone: number;
}

/** Writes `dir` with the DZI pyramid, the viewer page, OpenSeadragon and the thumbnail. */
export async function writeOverlayViews(
  rgb: RgbBands,
  labels: LabelRaster,
  dir: string,
  options: OverlayViewOptions,
): Promise<OverlayViews> {
  const { width, height } = labels;
  if (rgb.width !== width || rgb.height !== height)
    throw new Error(`${labels.source}: labels are ${width} x ${height} but the slide view is ${rgb.width} x ${rgb.height}`);
  const ts = DZI_TILE_SIZE;
  const quality = options.quality ?? 85;
  const thumbnailMax = options.thumbnailMax ?? 1024;
  if (!(thumbnailMax >= 1)) throw new Error(`${dir}: the thumbnail's longest side must be at least 1 pixel (got ${thumbnailMax})`);
  const sizes = dziLevels(width, height);
  const levels: Level[] = sizes.map((s, index) => ({ index, ...s, band: new Uint8Array(ts * s.width * 3), bandRows: 0, rowsDone: 0 }));
  const thumbLevel = levels.filter((l) => Math.max(l.width, l.height) <= thumbnailMax).at(-1)!;
  const thumbnail = new Uint8Array(thumbLevel.width * thumbLevel.height * 3);

  await mkdir(dirname(dir), { recursive: true });
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const tiles = join(tmp, `${DZI_NAME}_files`);
  try {
    await Promise.all(levels.map((l) => mkdir(join(tiles, String(l.index)), { recursive: true })));

    /** Tiles of `rows` rows of `level` in `src`, halved into the level below, which flushes when full. */
    const flush = async (level: Level, src: Uint8Array, rows: number): Promise<void> => {
      const tileRow = level.rowsDone / ts;
      const writes: Promise<void>[] = [];
      for (let x0 = 0, col = 0; x0 < level.width; x0 += ts, col++) {
        const w = Math.min(ts, level.width - x0);
        const tile = new Uint8Array(w * rows * 3);
        for (let r = 0; r < rows; r++) tile.set(src.subarray((r * level.width + x0) * 3, (r * level.width + x0 + w) * 3), r * w * 3);
        writes.push(
          sharp(tile, { raw: { width: w, height: rows, channels: 3 } })
            .jpeg({ quality })
            .toBuffer()
            .then((jpeg) => writeFile(join(tiles, String(level.index), `${col}_${tileRow}.jpg`), jpeg)),
        );
      }
      if (level === thumbLevel) thumbnail.set(src.subarray(0, rows * level.width * 3), level.rowsDone * level.width * 3);
      level.rowsDone += rows;
      await Promise.all(writes);
      const next = levels[level.index - 1];
      if (next === undefined) return;
      halve(level.width, src, rows, next);
      if (next.bandRows === ts || next.rowsDone + next.bandRows === next.height) {
        const fullRows = next.bandRows;
        next.bandRows = 0;
        await flush(next, next.band, fullRows);
      }
    };

    const top = levels.at(-1)!;
    for (let y0 = 0; y0 < height; y0 += ts) {
      const rows = Math.min(ts, height - y0);
      const [colour, bits] = await Promise.all([rgb.readRows(y0, rows), labels.readRows(y0, rows)]);
      const band = top.band.subarray(0, rows * width * 3);
      band.set(colour);
      blendLabels(band, bits);
      await flush(top, band, rows);
      options.onProgress?.(y0 + rows, height);
    }

    await writeFile(join(tmp, `${DZI_NAME}.dzi`), dziXml(width, height));
    await writeFile(join(tmp, VIEWER_PAGE), viewerHtml(options.title, width, height));
    await copyOpenSeadragon(join(tmp, 'openseadragon'));
    await sharp(thumbnail, { raw: { width: thumbLevel.width, height: thumbLevel.height, channels: 3 } })
      .png()
      .toFile(join(tmp, THUMBNAIL));
    // The old views go aside first, so `dir` is either the old views or the new ones, never a mix.
    const aside = `${tmp}.old`;
    if (existsSync(dir)) await rename(dir, aside);
    await rename(tmp, dir);
    await rm(aside, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, levels: sizes, thumbnail: { width: thumbLevel.width, height: thumbLevel.height } };
}

/** Appends `rows` rows of a level `width` wide, halved (2 x 2 means, edge pixels paired with themselves), to `next`'s band. */
function halve(width: number, src: Uint8Array, rows: number, next: Level): void {
  const out = next.band;
  for (let y = 0; y < Math.ceil(rows / 2); y++) {
    const r0 = 2 * y * width * 3;
    const r1 = 2 * y + 1 < rows ? r0 + width * 3 : r0;
    const o = (next.bandRows + y) * next.width * 3;
    for (let x = 0; x < next.width; x++) {
      const a = 2 * x * 3;
      const b = 2 * x + 1 < width ? a + 3 : a;
      for (let k = 0; k < 3; k++) out[o + x * 3 + k] = (src[r0 + a + k]! + src[r0 + b + k]! + src[r1 + a + k]! + src[r1 + b + k]! + 2) >> 2;
    }
  }
  next.bandRows += Math.ceil(rows / 2);
}

function dziXml(width: number, height: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="jpg" Overlap="0" TileSize="${DZI_TILE_SIZE}">
  <Size Width="${width}" Height="${height}"/>
</Image>
`;
}

/**
 * The viewer page. The tile source is written into the page rather than loaded from the .dzi file, because
 * browsers refuse scripts' requests for file:// URLs; tiles load as plain images, which they allow. The canvas
 * drawer is asked for since WebGL cannot use images from file:// pages.
 */
function viewerHtml(title: string, width: number, height: number): string {
  const source = {
    Image: {
      xmlns: 'http://schemas.microsoft.com/deepzoom/2008',
      Url: `${DZI_NAME}_files/`,
      Format: 'jpg',
      Overlap: '0',
      TileSize: String(DZI_TILE_SIZE),
      Size: { Width: String(width), Height: String(height) },
    },
  };
  const legend = CLASS_STYLES.map(
    (s) => `<span class="key"><span class="swatch" style="background:rgb(${s.colour.join(',')})"></span>${escapeMarkup(s.name)}</span>`,
  ).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeMarkup(title)} - mmfd overlay</title>
<style>
html, body { margin: 0; height: 100%; font: 14px system-ui, sans-serif; }
header { padding: 6px 10px; background: #f4f4f4; border-bottom: 1px solid #ccc; }
.key { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border: 1px solid #444; }
#view { position: absolute; top: 32px; bottom: 0; left: 0; right: 0; background: #fff; }
</style>
</head>
<body>
<header><strong>${escapeMarkup(title)}</strong> &nbsp; ${legend}</header>
<div id="view"></div>
<script src="openseadragon/openseadragon.min.js"></script>
<script>
OpenSeadragon({
  id: 'view',
  prefixUrl: 'openseadragon/images/',
  drawer: 'canvas',
  showNavigator: true,
  tileSources: ${JSON.stringify(source)}
});
</script>
</body>
</html>
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
