// The overlay pictures of a slide: its RGB with the class overlay blended in (the project's overlay rule,
// alpha 0.5, viz/overlay.ts), as a DeepZoom (DZI) tile pyramid with a static OpenSeadragon page that opens
// from disk with no server, plus a thumbnail PNG.
//
// Streaming: the blended image is made band by band (one tile row) and fed to the streaming pyramid
// (pyramid.ts), which hands back each band of each level down to 1 x 1 pixel (DZI's level 0) to be cut into
// tiles. Memory is a band per level, never the slide. Tiles have no overlap (Overlap="0"), so a band needs no rows of the next
// one. The thumbnail is the smallest level at least `thumbnailMax` on its longest side, kept whole as it is
// made and resized to exactly `thumbnailMax` (never enlarged: a smaller image is its own thumbnail).
//
// Everything goes to a folder beside `dir` first and is swapped in when complete (torch/io/files.ts), so a
// reader never sees half a pyramid; an older `dir` is replaced.
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { CLASS_STYLES } from '../../data/classes.js';
import { folderTempName, swapFolderIn } from '../../torch/io/files.js';
import { escapeMarkup } from '../../viz/svg.js';
import type { LabelRaster } from '../io/label_raster.js';
import type { RgbBands } from '../io/rgb_bands.js';
import { BandPyramid, type BandVisitor, type LevelSize, pyramidLevels } from './pyramid.js';

export const DZI_TILE_SIZE = 256;
export const DZI_NAME = 'slide';
export const VIEWER_PAGE = 'viewer.html';
export const THUMBNAIL = 'thumbnail_overlay.png';

export interface OverlayViewOptions {
  /** Title of the viewer page. */
  title: string;
  /** Longest side of the thumbnail (at most the image's own); default 1024. */
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
  const pyramid = new BandPyramid({ width, height, channels: 3, bandRows: ts, fit: 1, downsample: 'mean' });
  const { levels } = pyramid;
  // DZI numbers its levels from the smallest; the pyramid from the largest.
  const dziIndex = (level: number) => levels.length - 1 - level;
  // Below 2 thumbnailMax a side (or the image itself), so it is resized to thumbnailMax from close by.
  const below = levels.findIndex((l) => Math.max(l.width, l.height) < thumbnailMax);
  const thumbIndex = below === -1 ? levels.length - 1 : Math.max(0, below - 1);
  const thumbLevel = levels[thumbIndex]!;
  const thumbSize = fitInside(thumbLevel.width, thumbLevel.height, thumbnailMax);
  const thumbnail = new Uint8Array(thumbLevel.width * thumbLevel.height * 3);

  await mkdir(dirname(dir), { recursive: true });
  const tmp = folderTempName(dir);
  const tiles = join(tmp, `${DZI_NAME}_files`);
  try {
    await Promise.all(levels.map((_, i) => mkdir(join(tiles, String(dziIndex(i))), { recursive: true })));

    /** Starts the JPEG tiles of a band of `rows` rows of pyramid level `index`, keeping the thumbnail's rows. */
    const writes: Promise<void>[] = [];
    const cutTiles: BandVisitor = (index, src, rows, firstRow) => {
      const levelWidth = levels[index]!.width;
      const folder = join(tiles, String(dziIndex(index)));
      for (let x0 = 0, col = 0; x0 < levelWidth; x0 += ts, col++) {
        const w = Math.min(ts, levelWidth - x0);
        const tile = new Uint8Array(w * rows * 3);
        for (let r = 0; r < rows; r++) tile.set(src.subarray((r * levelWidth + x0) * 3, (r * levelWidth + x0 + w) * 3), r * w * 3);
        writes.push(
          sharp(tile, { raw: { width: w, height: rows, channels: 3 } })
            .jpeg({ quality })
            .toBuffer()
            .then((jpeg) => writeFile(join(folder, `${col}_${firstRow / ts}.jpg`), jpeg)),
        );
      }
      if (index === thumbIndex) thumbnail.set(src.subarray(0, rows * levelWidth * 3), firstRow * levelWidth * 3);
    };

    const band = new Uint8Array(ts * width * 3);
    for (let y0 = 0; y0 < height; y0 += ts) {
      const rows = Math.min(ts, height - y0);
      const [colour, bits] = await Promise.all([rgb.readRows(y0, rows), labels.readRows(y0, rows)]);
      const blended = band.subarray(0, rows * width * 3);
      blended.set(colour);
      blendLabels(blended, bits);
      pyramid.push(blended, rows, cutTiles);
      await Promise.all(writes.splice(0));
      options.onProgress?.(y0 + rows, height);
    }

    await writeFile(join(tmp, `${DZI_NAME}.dzi`), dziXml(width, height));
    await writeFile(join(tmp, VIEWER_PAGE), viewerHtml(options.title, width, height));
    await copyOpenSeadragon(join(tmp, 'openseadragon'));
    await sharp(thumbnail, { raw: { width: thumbLevel.width, height: thumbLevel.height, channels: 3 } })
      .resize(thumbSize.width, thumbSize.height, { fit: 'fill' })
      .png()
      .toFile(join(tmp, THUMBNAIL));
    await swapFolderIn(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, levels: dziLevels(width, height), thumbnail: thumbSize };
}

/** A width x height image scaled so its longest side is `max` (not enlarged), the other side rounded. */
export function fitInside(width: number, height: number, max: number): { width: number; height: number } {
  const k = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
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
