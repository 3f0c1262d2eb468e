// Every level of every kind of TIFF mmfd writes (RGB slides, bit-flag label maps, one-channel probability
// planes; synthetic slides and their labels), read through OpenSlide and through libvips (sharp), against the
// pixels the level must hold: level 0 as given (or as SlidePainter paints it) and each further level the 2x2
// mean or mode of the one above, computed here. OpenSlide is read the way a viewer or a tiled reader reads:
// windows at level positions scaled by the level's downsample, not only the whole level from its origin. A JPEG
// slide's levels hold what the decoder makes of its tiles: there OpenSlide must agree with libvips exactly.
// Rasters on the label grid are padded to a full pyramid (`fullPyramid`): each level must be the rounding pyramid
// of the true pixels (an odd edge paired with itself), padded with 0 to level 0's padded size over 2^k.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { pyramidLevels } from '../../src/slides/export/pyramid.js';
import type { PyramidalTiffOptions } from '../../src/slides/export/tiff_writer.js';
import { BAND_ROWS, openLabelTiff } from '../../src/slides/io/label_raster.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { recordedGrid } from '../../src/slides/io/raster_grid.js';
import { SlidePainter } from '../../src/synth/slide/paint.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { readTiffDirectories } from '../helpers/tiff_directory.js';
import { type Image, pattern, writeImage } from '../helpers/tiff_image.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-pyramid-readers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The next level: each pixel the rounded mean, or the mode (ties to the first), of its 2x2 block; at an odd right
 * or bottom edge the last column or row pairs with itself.
 */
function halve(image: Image, mode: boolean): Image {
  const { width, height, channels: c } = image;
  const [w, h] = [Math.ceil(width / 2), Math.ceil(height / 2)];
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const at = (dx: number, dy: number) =>
          image.data[(Math.min(2 * y + dy, height - 1) * width + Math.min(2 * x + dx, width - 1)) * c + k]!;
        const block = [at(0, 0), at(1, 0), at(0, 1), at(1, 1)];
        let value = (block[0]! + block[1]! + block[2]! + block[3]! + 2) >> 2;
        if (mode) {
          let best = 0;
          for (const v of block) {
            let n = 0;
            for (const u of block) n += u === v ? 1 : 0;
            if (n > best) [best, value] = [n, v];
          }
        }
        data[(y * w + x) * c + k] = value;
      }
    }
  }
  return { width: w, height: h, channels: c, data };
}

/** Bit-flag labels that change every pixel or two: the known pattern mapped onto label values. */
function labelPattern(width: number, height: number): Image {
  const classes = [0, 16, 17, 21, 25, 19, 29];
  const image = pattern(width, height, 1);
  return { ...image, data: image.data.map((v) => classes[v % classes.length]!) };
}

/** Pixels of `level` where OpenSlide's window reads differ from `expected`, or are not opaque. */
function openslideDifferences(slide: OpenSlide, level: number, expected: Image): number {
  const { width, height, downsample } = slide.levels[level]!;
  assert.deepEqual([width, height], [expected.width, expected.height]);
  let differences = 0;
  // Windows that straddle tiles and the level's right and bottom edges, then the whole level from its origin.
  const windows: [number, number, number, number][] = [[0, 0, width, height]];
  for (let y = 0; y < height; y += 23)
    for (let x = 0; x < width; x += 37) windows.push([x, y, Math.min(37, width - x), Math.min(23, height - y)]);
  for (const [x0, y0, w, h] of windows) {
    const rgba = slide.readRegion(x0 * downsample, y0 * downsample, level, w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = 4 * (y * w + x);
        const e = ((y0 + y) * width + x0 + x) * expected.channels;
        const c = expected.channels === 1 ? 0 : 1;
        const same = rgba[i] === expected.data[e] && rgba[i + 1] === expected.data[e + c] && rgba[i + 2] === expected.data[e + 2 * c];
        if (!same || rgba[i + 3] !== 255) differences++;
      }
    }
  }
  return differences;
}

async function sharpLevel(path: string, level: number, channels: number): Promise<Buffer> {
  const img = sharp(path, { page: level, limitInputPixels: false });
  return (channels === 1 ? img.extractChannel(0) : img).raw().toBuffer();
}

/** `image` on a `width` x `height` canvas of zeros, at its top-left. */
function padded(image: Image, width: number, height: number): Image {
  const c = image.channels;
  const data = new Uint8Array(width * height * c);
  for (let y = 0; y < image.height; y++) data.set(image.data.subarray(y * image.width * c, (y + 1) * image.width * c), y * width * c);
  return { width, height, channels: c, data };
}

/**
 * Checks every level of `path` through both readers; returns the levels' sizes. `levels` (a padded file): that many
 * levels, each the true pixels' level padded with zeros to level 0's padded size over 2^level.
 */
async function checkEveryLevel(path: string, level0: Image, mode: boolean, levels?: number): Promise<[number, number][]> {
  const slide = OpenSlide.open(path);
  try {
    let truePixels = level0;
    if (levels !== undefined) assert.equal(slide.levels.length, levels, `${path}: levels`);
    // Level 0 padded: the last level's size (level 0 halved, rounding up, levels - 1 times) times 2^(levels - 1).
    const scale = 2 ** ((levels ?? 1) - 1);
    const [paddedWidth, paddedHeight] = [Math.ceil(level0.width / scale) * scale, Math.ceil(level0.height / scale) * scale];
    for (let level = 0; level < slide.levels.length; level++) {
      if (level > 0) truePixels = halve(truePixels, mode);
      const expected = levels === undefined ? truePixels : padded(truePixels, paddedWidth / 2 ** level, paddedHeight / 2 ** level);
      assert.equal(slide.levels[level]!.downsample, 2 ** level, `${path} level ${level}: a whole downsample`);
      assert.equal(openslideDifferences(slide, level, expected), 0, `${path} level ${level} through OpenSlide`);
      const vips = await sharpLevel(path, level, level0.channels);
      assert.ok(vips.equals(Buffer.from(expected.data)), `${path} level ${level} through libvips`);
    }
    return slide.levels.map((l) => [l.width, l.height]);
  } finally {
    slide.close();
  }
}

describe('every pyramid level mmfd writes reads back exactly through OpenSlide and libvips', () => {
  // Even sizes with several levels, sides that turn odd part-way down, odd sizes, and a level smaller than a tile.
  const shapes: [number, number][] = [
    [512, 384],
    [500, 302],
    [261, 173],
    [320, 48],
  ];
  for (const [width, height] of shapes) {
    test(`${width} x ${height}: RGB (deflate, uncompressed), labels (mode), probability planes (mean)`, async () => {
      const rgb = pattern(width, height, 3);
      const labels = labelPattern(width, height);
      const plane = pattern(width, height, 1);
      const kinds: [string, Image, Partial<PyramidalTiffOptions>, boolean][] = [
        ['rgb.tif', rgb, { tileSize: 64 }, false],
        ['rgb_raw.tif', rgb, { tileSize: 64, compression: 'none' }, false],
        ['labels.tif', labels, { tileSize: 64, downsample: 'mode' }, true],
        ['plane.tif', plane, { tileSize: 64, downsample: 'mean' }, false],
      ];
      for (const [name, image, options, mode] of kinds) {
        const path = join(dir, `${width}x${height}_${name}`);
        await writeImage(path, image, { mpp: 0.5, ...options });
        const sizes = await checkEveryLevel(path, image, mode);
        // Halving stops at the first odd side or once a level fits in one 64-pixel tile (40 x 6 is smaller than one).
        const expectedLevels = { 512: 4, 500: 2, 261: 1, 320: 4 }[width];
        assert.equal(sizes.length, expectedLevels, `${name}: ${JSON.stringify(sizes)}`);
      }
    });
  }

  for (const [width, height] of [
    [512, 384],
    [301, 223],
  ] as const) {
    test(`a synthetic ${width} x ${height} slide and its labels, against what SlidePainter paints`, async () => {
      const out = join(dir, `synth_${width}.tif`);
      const result = await writeSyntheticSlide({ out, width, height, seed: 3, mpp: 2, tileSize: 64 });
      const painter = new SlidePainter(width, height, 3, 2);
      const rgb = new Uint8Array(width * height * 3);
      const labels = new Uint8Array(width * height);
      painter.paintWindow(0, 0, width, height, rgb, labels);
      const slideLevels = await checkEveryLevel(result.slide, { width, height, channels: 3, data: rgb }, false);
      assert.equal(slideLevels.length, width % 2 === 0 ? 4 : 1); // 512 x 384 -> 64 x 48; 301 is odd
      assert.deepEqual(slideLevels[0], [width, height], 'the slide keeps the size asked for');
      // The truth is an output raster, padded to a full pyramid: 301 x 223 -> 304 x 224, down to 38 x 28.
      const labelLevels = await checkEveryLevel(result.labels, { width, height, channels: 1, data: labels }, true, 4);
      if (width % 2 === 0) assert.deepEqual(labelLevels, slideLevels);
      assert.deepEqual(recordedGrid(result.labels), { width, height });
    });
  }

  // Label grids with odd sides (2501 x 1999-like, scaled down), and one whose padding is more than a tile.
  const gridShapes: [number, number, number, number, number][] = [
    // width, height, tile, levels (halving, rounding up, until a level fits one tile), levels before padding
    [501, 299, 64, 4, 1],
    [627, 499, 64, 5, 1],
    [1030, 100, 16, 8, 2],
  ];
  for (const [width, height, tileSize, levels, exactLevels] of gridShapes) {
    test(`a ${width} x ${height} label grid padded to a full pyramid: ${levels} levels, not ${exactLevels}`, async () => {
      const labels = labelPattern(width, height);
      const plane = pattern(width, height, 1);
      for (const [name, image, downsample] of [
        ['labels.tif', labels, 'mode'],
        ['plane.tif', plane, 'mean'],
      ] as const) {
        const path = join(dir, `grid_${width}x${height}_${name}`);
        const options = { mpp: 0.5, tileSize, downsample, description: '{"format":"test"}' } as const;
        const exact = await writeImage(join(dir, `exact_${name}`), image, options);
        assert.equal(exact.levels.length, exactLevels, 'without padding');
        await writeImage(path, image, { ...options, fullPyramid: true });
        await checkEveryLevel(path, image, downsample === 'mode', levels);
        // The true size is in the file, the pixel size is the label pixel's, and mmfd's reader crops to the true size.
        assert.deepEqual(recordedGrid(path), { width, height });
        assert.deepEqual(JSON.parse(String(readTiffDirectories(path).directories[0]!.tags.get(270))), {
          grid: [width, height],
          format: 'test',
        });
        const slide = OpenSlide.open(path);
        assert.deepEqual(slide.mpp, { x: 0.5, y: 0.5 });
        slide.close();
        if (downsample === 'mean') continue;
        let truePixels = image;
        for (let level = 0; level < pyramidLevels(width, height, BAND_ROWS).length; level++) {
          if (level > 0) truePixels = halve(truePixels, true);
          const read = await openLabelTiff(path, level);
          assert.deepEqual(
            [read.width, read.height, read.baseWidth, read.baseHeight],
            [truePixels.width, truePixels.height, width, height],
          );
          assert.ok(Buffer.from(await read.readRows(0, read.height)).equals(Buffer.from(truePixels.data)), `openLabelTiff level ${level}`);
        }
      }
    });
  }

  test('a JPEG slide: OpenSlide and libvips decode every level to the same pixels, close to the painted ones', async () => {
    const [width, height] = [512, 384];
    const out = join(dir, 'synth_jpeg.tif');
    await writeSyntheticSlide({ out, width, height, seed: 3, mpp: 2, tileSize: 64, compression: 'jpeg' });
    const painted = new Uint8Array(width * height * 3);
    new SlidePainter(width, height, 3, 2).paintWindow(0, 0, width, height, painted, new Uint8Array(width * height));
    const slide = OpenSlide.open(out);
    try {
      assert.equal(slide.levels.length, 4);
      for (let level = 0; level < slide.levels.length; level++) {
        const { width: w, height: h } = slide.levels[level]!;
        const vips = await sharpLevel(out, level, 3);
        assert.equal(openslideDifferences(slide, level, { width: w, height: h, channels: 3, data: vips }), 0, `level ${level}`);
      }
      const level0 = await sharpLevel(out, 0, 3);
      const error = level0.reduce((sum, v, i) => sum + Math.abs(v - painted[i]!), 0) / level0.length;
      assert.ok(error < 3, `JPEG q90: mean absolute error ${error}`);
    } finally {
      slide.close();
    }
  });
});
