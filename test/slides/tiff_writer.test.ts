// The pyramidal TIFF writer against known pixels: the directories and tags read back by a parser written
// for the test, level-0 tiles decoded by hand (inflate + predictor), every level read back through
// sharp/libtiff and compared with a 2x2 mean (RGB) or mode (labels) computed here.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { pyramidLevels } from '../../src/slides/export/pyramid.js';
import { PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';
import { numbers, readTiffDirectories, tagValue } from '../helpers/tiff_directory.js';
import { type Image, pattern, writeImage } from '../helpers/tiff_image.js';
import { leftoverTemps } from '../torch/io/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-tiff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The next level: each pixel the rounded mean (or the mode, ties to the first) of its 2x2 block, edge blocks cut short. */
function halve(image: Image, mode: boolean): Image {
  const { width, height, channels: c } = image;
  const w = Math.ceil(width / 2);
  const h = Math.ceil(height / 2);
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const block: number[] = [];
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ] as const) {
          if (2 * x + dx < width && 2 * y + dy < height) block.push(image.data[((2 * y + dy) * width + 2 * x + dx) * c + k]!);
        }
        let value: number;
        if (mode) {
          const counts = block.map((v) => block.filter((u) => u === v).length);
          value = block[counts.indexOf(Math.max(...counts))]!;
        } else {
          value = Math.floor(block.reduce((a, b) => a + b, 0) / block.length + 0.5);
        }
        data[(y * w + x) * c + k] = value;
      }
    }
  }
  return { width: w, height: h, channels: c, data };
}

async function readPage(path: string, page: number, channels: number): Promise<Image> {
  const img = sharp(path, { page });
  const { data, info } = await (channels === 1 ? img.extractChannel(0) : img).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

const TAG = { NewSubfileType: 254, Width: 256, Length: 257, Compression: 259, Photometric: 262, Description: 270, Samples: 277 };
const TAG2 = { XRes: 282, YRes: 283, ResUnit: 296, Predictor: 317, TileW: 322, TileL: 323, Offsets: 324, Counts: 325 };

describe('PyramidalTiffWriter', () => {
  test('pyramidLevels halves (rounding up) until a level fits in one tile; exact levels stop before one would round', () => {
    assert.deepEqual(pyramidLevels(700, 530, 256), [
      { width: 700, height: 530 },
      { width: 350, height: 265 },
      { width: 175, height: 133 },
    ]);
    assert.deepEqual(pyramidLevels(40000, 40000, 256).length, 9); // 40000 / 2^8 = 157 <= 256
    assert.deepEqual(pyramidLevels(200, 100, 256), [{ width: 200, height: 100 }]);
    // The TIFF writer's levels: each exactly level 0 over 2^k, so OpenSlide's downsamples are whole numbers.
    assert.deepEqual(pyramidLevels(700, 530, 256, true), [
      { width: 700, height: 530 },
      { width: 350, height: 265 },
    ]);
    assert.deepEqual(
      pyramidLevels(40000, 30000, 256, true).map((l) => l.width),
      [40000, 20000, 10000, 5000, 2500], // 30000 / 2^4 = 1875 is odd
    );
    assert.deepEqual(pyramidLevels(1024, 768, 256, true).length, 3); // 256 x 192 fits
    assert.deepEqual(pyramidLevels(2501, 1999, 256, true), [{ width: 2501, height: 1999 }]);
  });

  test('RGB deflate: BigTIFF directories, tags, tile layout and every level match the known pixels', async () => {
    const path = join(dir, 'rgb.tif');
    const image = pattern(704, 528, 3);
    await writeImage(path, image, { mpp: 0.252, description: 'test slide' });
    assert.deepEqual(leftoverTemps(dir), [], 'the temporary file is renamed away');
    const tiff = readTiffDirectories(path);
    assert.equal(tiff.bigTiff, true);
    assert.equal(tiff.directories.length, 3);
    const sizes = [
      [704, 528],
      [352, 264],
      [176, 132],
    ];
    tiff.directories.forEach((d, level) => {
      assert.equal(tagValue(d, TAG.NewSubfileType), level === 0 ? 0 : 1);
      assert.deepEqual([tagValue(d, TAG.Width), tagValue(d, TAG.Length)], sizes[level]);
      assert.equal(tagValue(d, TAG.Compression), 8);
      assert.equal(tagValue(d, TAG.Photometric), 2);
      assert.equal(tagValue(d, TAG.Samples), 3);
      assert.equal(tagValue(d, TAG2.Predictor), 2);
      assert.deepEqual([tagValue(d, TAG2.TileW), tagValue(d, TAG2.TileL)], [256, 256]);
      // 0.252 um per pixel = 39,682.54 pixels per centimetre at level 0, halving per level; mpp reads back exactly.
      assert.equal(tagValue(d, TAG2.ResUnit), 3);
      for (const tag of [TAG2.XRes, TAG2.YRes]) assert.ok(Math.abs(10000 / tagValue(d, tag) - 0.252 * 2 ** level) < 1e-12);
      const tiles = Math.ceil(sizes[level]![0]! / 256) * Math.ceil(sizes[level]![1]! / 256);
      assert.equal(numbers(d, TAG2.Offsets).length, tiles);
      assert.equal(numbers(d, TAG2.Counts).length, tiles);
    });
    assert.equal(tiff.directories[0]!.tags.get(TAG.Description), 'test slide');
    assert.equal(tiff.directories[1]!.tags.get(TAG.Description), undefined);

    // Level 0 decoded by hand: each tile inflated, the horizontal predictor undone, placed at its grid position.
    const d0 = tiff.directories[0]!;
    const offsets = numbers(d0, TAG2.Offsets);
    const counts = numbers(d0, TAG2.Counts);
    const across = Math.ceil(704 / 256);
    for (let t = 0; t < offsets.length; t++) {
      const tile = new Uint8Array(inflateSync(tiff.bytes.subarray(offsets[t]!, offsets[t]! + counts[t]!)));
      assert.equal(tile.length, 256 * 256 * 3);
      for (let y = 0; y < 256; y++) for (let i = y * 768 + 3; i < (y + 1) * 768; i++) tile[i] = (tile[i]! + tile[i - 3]!) & 255;
      const tx = t % across;
      const ty = Math.floor(t / across);
      for (let y = 0; y < 256; y++) {
        for (let x = 0; x < 256; x++) {
          const gx = tx * 256 + x;
          const gy = ty * 256 + y;
          for (let c = 0; c < 3; c++) {
            const expected = gx < 704 && gy < 528 ? image.data[(gy * 704 + gx) * 3 + c] : 255; // edge tiles padded white
            if (tile[(y * 256 + x) * 3 + c] !== expected)
              assert.fail(`tile ${t} pixel (${x}, ${y}) channel ${c}: ${tile[(y * 256 + x) * 3 + c]} != ${expected}`);
          }
        }
      }
    }

    // Every level through sharp (libvips + libtiff), against 2x2 means computed here.
    let expected = image;
    for (let level = 0; level < 3; level++) {
      const page = await readPage(path, level, 3);
      assert.deepEqual([page.width, page.height, page.channels], [expected.width, expected.height, 3]);
      assert.ok(Buffer.from(page.data).equals(Buffer.from(expected.data)), `level ${level} pixels`);
      expected = halve(expected, false);
    }
  });

  test('one-channel labels: levels are 2x2 modes, so a class never turns into a value no pixel had', async () => {
    const path = join(dir, 'labels.tif');
    const image: Image = { width: 500, height: 300, channels: 1, data: new Uint8Array(500 * 300) };
    // Blocks holding three distinct classes where the mode is not the top-left pixel, and 2-2 ties.
    for (let y = 0; y < 300; y++)
      for (let x = 0; x < 500; x++)
        image.data[y * 500 + x] = [1, 4, 4, 16, 5, 5, 9, 9][(x % 2) + 2 * (y % 2) + 4 * (((x >> 1) + (y >> 1)) % 2)]!;
    await writeImage(path, image, { downsample: 'mode' });
    const tiff = readTiffDirectories(path);
    assert.equal(tiff.directories.length, 2);
    assert.equal(tagValue(tiff.directories[0]!, TAG.Photometric), 1);
    assert.equal(tagValue(tiff.directories[0]!, TAG.Samples), 1);
    assert.equal(tiff.directories[0]!.tags.get(TAG2.XRes), undefined, 'no mpp, no resolution tags');
    const level0 = await readPage(path, 0, 1);
    assert.ok(Buffer.from(level0.data).equals(Buffer.from(image.data)));
    const level1 = await readPage(path, 1, 1);
    const expected = halve(image, true);
    assert.ok(Buffer.from(level1.data).equals(Buffer.from(expected.data)));
    assert.deepEqual(new Set(level1.data), new Set([4, 5]), 'block [1 4 / 4 16] gives 4, tie [5 5 / 9 9] gives 5');
  });

  test('JPEG tiles (YCbCr 4:4:4) decode through libtiff to the original colours', async () => {
    const path = join(dir, 'jpeg.tif');
    const image: Image = { width: 520, height: 300, channels: 3, data: new Uint8Array(520 * 300 * 3) };
    for (let y = 0; y < 300; y++) {
      for (let x = 0; x < 520; x++) image.data.set([200 + (x % 40), 120 + (y % 60), 170 + ((x + y) % 50)], (y * 520 + x) * 3);
    }
    await writeImage(path, image, { compression: 'jpeg', jpegQuality: 95 });
    const tiff = readTiffDirectories(path);
    assert.equal(tagValue(tiff.directories[0]!, TAG.Compression), 7);
    assert.equal(tagValue(tiff.directories[0]!, TAG.Photometric), 6);
    const page = await readPage(path, 0, 3);
    let error = 0;
    for (let i = 0; i < page.data.length; i++) error += Math.abs(page.data[i]! - image.data[i]!);
    assert.ok(error / page.data.length < 2.5, `mean absolute error ${error / page.data.length}`);
  });

  test('bad input is refused with the file named, and an unfinished file never appears', async () => {
    const path = join(dir, 'broken.tif');
    await assert.rejects(
      PyramidalTiffWriter.create(path, { width: 10, height: 10, channels: 2 as 3 }),
      /broken\.tif.*channels must be 1 or 3/,
    );
    await assert.rejects(PyramidalTiffWriter.create(path, { width: 10, height: 10, channels: 3, tileSize: 100 }), /multiple of 16/);
    await assert.rejects(PyramidalTiffWriter.create(path, { width: 10, height: 10, channels: 1, compression: 'jpeg' }), /JPEG/);
    const writer = await PyramidalTiffWriter.create(path, { width: 300, height: 600, channels: 3 });
    await assert.rejects(
      writer.writeBand(new Uint8Array(10)),
      /broken\.tif: band at row 0 must hold 256 rows x 300 px x 3 channels = 230400 bytes \(got 10\)/,
    );
    await writer.writeBand(new Uint8Array(256 * 300 * 3));
    assert.ok(!existsSync(path), 'nothing at the final path while writing');
    await assert.rejects(writer.close(), /closed after 256 of 600 rows; nothing written/);
    assert.ok(!existsSync(path));
    assert.deepEqual(leftoverTemps(dir), [], 'the temporary file is deleted');
  });
});
