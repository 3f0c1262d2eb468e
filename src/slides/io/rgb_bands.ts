// A slide's RGB on the pixel grid of its label map, band by band, for the overlay pictures. Each band is
// read from the coarsest pyramid level at least as fine as the grid, in windows of bounded width, and resized
// to the grid with sharp; glass outside the scan (OpenSlide returns it transparent) becomes white. This is
// for looking at, not for the network: resampling offsets below one grid pixel do not matter here.
import sharp from 'sharp';
import type { OpenSlide } from './openslide.js';

export interface RgbBands {
  readonly width: number;
  readonly height: number;
  /** Rows y0 .. y0 + rows - 1, RGB interleaved. */
  readRows(y0: number, rows: number): Promise<Uint8Array>;
}

/** Grid columns read and resized at once: bounds memory whatever the slide's width. */
const WINDOW = 2048;

export function rgbBandsFromArray(data: Uint8Array, width: number, height: number): RgbBands {
  if (data.length !== width * height * 3) throw new Error(`RGB array: ${data.length} bytes for ${width} x ${height} pixels`);
  return { width, height, readRows: async (y0, rows) => data.subarray(y0 * width * 3, (y0 + rows) * width * 3) };
}

/**
 * The slide seen on a grid of width x height pixels, each `downsample` level-0 pixels wide (the label map's
 * level-0 pixels per pixel: its mpp over the slide's, times its pyramid level's reduction).
 */
export function slideRgbBands(slide: OpenSlide, downsample: number, width: number, height: number): RgbBands {
  if (!(downsample > 0)) throw new Error(`${slide.path}: the grid downsample must be positive (got ${downsample})`);
  // The coarsest level that is still at least as fine as the grid (1% slack for rounded downsamples).
  let level = 0;
  slide.levels.forEach((l, i) => {
    if (l.downsample <= downsample * 1.01 && l.downsample > slide.levels[level]!.downsample) level = i;
  });
  const { downsample: d, width: levelWidth, height: levelHeight } = slide.levels[level]!;
  const readWindow = async (gx: number, gy: number, w: number, h: number): Promise<Uint8Array> => {
    // The window's extent in level pixels, at least one pixel and inside the level.
    const lx = Math.min(levelWidth - 1, Math.floor((gx * downsample) / d));
    const ly = Math.min(levelHeight - 1, Math.floor((gy * downsample) / d));
    const lw = Math.max(1, Math.min(levelWidth - lx, Math.ceil(((gx + w) * downsample) / d) - lx));
    const lh = Math.max(1, Math.min(levelHeight - ly, Math.ceil(((gy + h) * downsample) / d) - ly));
    const rgba = slide.readRegion(Math.round(lx * d), Math.round(ly * d), level, lw, lh);
    const rgb = new Uint8Array(lw * lh * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      // Premultiplied RGBA over white: c + (255 - alpha).
      const white = 255 - rgba[i + 3]!;
      rgb[j] = rgba[i]! + white;
      rgb[j + 1] = rgba[i + 1]! + white;
      rgb[j + 2] = rgba[i + 2]! + white;
    }
    if (lw === w && lh === h) return rgb;
    const resized = await sharp(rgb, { raw: { width: lw, height: lh, channels: 3 } })
      .resize(w, h, { fit: 'fill', kernel: lw > w ? 'lanczos3' : 'linear' })
      .raw()
      .toBuffer();
    return new Uint8Array(resized.buffer, resized.byteOffset, resized.byteLength);
  };
  return {
    width,
    height,
    async readRows(y0, rows) {
      const band = new Uint8Array(width * rows * 3);
      for (let x0 = 0; x0 < width; x0 += WINDOW) {
        const w = Math.min(WINDOW, width - x0);
        const window = await readWindow(x0, y0, w, rows);
        for (let r = 0; r < rows; r++) band.set(window.subarray(r * w * 3, (r + 1) * w * 3), (r * width + x0) * 3);
      }
      return band;
    },
  };
}
