// The overlay views: the blend equals the project's overlay (viz/overlay.ts), the DZI pyramid has the level
// and tile sizes DeepZoom prescribes, the thumbnail is as large as asked with the blend's colours, the viewer
// page carries its tile source and OpenSeadragon, and a failure leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  blendLabels,
  DZI_NAME,
  DZI_TILE_SIZE,
  dziLevels,
  THUMBNAIL,
  VIEWER_PAGE,
  writeOverlayViews,
} from '../../src/slides/export/deepzoom.js';
import { labelRasterFromArray, openLabelTiff } from '../../src/slides/io/label_raster.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { rgbBandsFromArray, slideRgbBands } from '../../src/slides/io/rgb_bands.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { blendOverlay } from '../../src/viz/overlay.js';
import { Rng } from '../helpers/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-deepzoom-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function randomImage(width: number, height: number, seed: number): { rgb: Uint8Array; labels: Uint8Array } {
  const rng = new Rng(seed);
  const rgb = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rng.next() * 256));
  const labels = Uint8Array.from({ length: width * height }, () => Math.floor(rng.next() * 32));
  return { rgb, labels };
}

/** The project's overlay of label bits: one mask per class through viz/overlay.ts. */
function referenceBlend(rgb: Uint8Array, labels: Uint8Array, width: number, height: number): Uint8Array {
  const masks = [0, 1, 2, 3].map((c) => labels.map((v) => (v >> c) & 1));
  return blendOverlay({ data: rgb, width, height }, { width, height, masks }).data;
}

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

describe('overlay views', () => {
  test('the blend is the project overlay of every class bit', () => {
    const { rgb, labels } = randomImage(64, 48, 1);
    const blended = rgb.slice();
    blendLabels(blended, labels);
    assert.deepEqual(blended, referenceBlend(rgb, labels, 64, 48));
  });

  test('DZI levels halve down to 1 x 1', () => {
    assert.deepEqual(dziLevels(5, 3), [
      { width: 1, height: 1 },
      { width: 2, height: 1 },
      { width: 3, height: 2 },
      { width: 5, height: 3 },
    ]);
    // DeepZoom has ceil(log2(max side)) + 1 levels.
    assert.equal(dziLevels(1000, 700).length, Math.ceil(Math.log2(1000)) + 1);
  });

  test('tiles, thumbnail, page and OpenSeadragon', async () => {
    const [width, height] = [700, 530];
    const { rgb, labels } = randomImage(width, height, 2);
    const out = join(dir, 'views');
    const progress: number[] = [];
    const views = await writeOverlayViews(rgbBandsFromArray(rgb, width, height), labelRasterFromArray(labels, width, height), out, {
      title: 'case <1>',
      thumbnailMax: 200,
      onProgress: (done) => progress.push(done),
    });
    assert.deepEqual(progress, [256, 512, 530]);
    assert.deepEqual(views.levels, dziLevels(width, height));
    // Every level's folder holds exactly its grid of tiles, edge tiles cut to the image.
    for (const [index, level] of views.levels.entries()) {
      const cols = Math.ceil(level.width / DZI_TILE_SIZE);
      const rows = Math.ceil(level.height / DZI_TILE_SIZE);
      const files = readdirSync(join(out, `${DZI_NAME}_files`, String(index))).sort();
      const expected = [];
      for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) expected.push(`${c}_${r}.jpg`);
      assert.deepEqual(files, expected.sort(), `level ${index}`);
      const last = await sharp(join(out, `${DZI_NAME}_files`, String(index), `${cols - 1}_${rows - 1}.jpg`)).metadata();
      assert.deepEqual([last.width, last.height], [level.width - (cols - 1) * DZI_TILE_SIZE, level.height - (rows - 1) * DZI_TILE_SIZE]);
    }
    // The thumbnail is 200 px on its longest side (530 * 200 / 700 = 151.4 on the other), the blend's colours kept.
    const thumb = await sharp(join(out, THUMBNAIL)).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([thumb.info.width, thumb.info.height], [200, 151]);
    assert.deepEqual(views.thumbnail, { width: 200, height: 151 });
    const blend = referenceBlend(rgb, labels, width, height);
    for (let k = 0; k < 3; k++) {
      const mean = (data: Uint8Array) => data.reduce((sum, v, i) => (i % 3 === k ? sum + v : sum), 0) / (data.length / 3);
      close(mean(new Uint8Array(thumb.data)), mean(blend), 1, `channel ${k} mean`);
    }
    // A top-level tile is the blended image up to JPEG's loss.
    const tile = await sharp(join(out, `${DZI_NAME}_files`, String(views.levels.length - 1), '1_1.jpg'))
      .raw()
      .toBuffer();
    const blended = referenceBlend(rgb, labels, width, height);
    let error = 0;
    for (let y = 0; y < 256; y++)
      for (let x = 0; x < 256; x++)
        for (let k = 0; k < 3; k++) error += Math.abs(tile[(y * 256 + x) * 3 + k]! - blended[((256 + y) * width + 256 + x) * 3 + k]!);
    assert.ok(error / (256 * 256 * 3) < 40, `mean JPEG error ${error / (256 * 256 * 3)} on random noise`);

    const page = readFileSync(join(out, VIEWER_PAGE), 'utf8');
    assert.match(page, /<script src="openseadragon\/openseadragon\.min\.js"><\/script>/);
    assert.match(page, /"Size":\{"Width":"700","Height":"530"\}/);
    assert.match(page, /case &#60;1&#62;/);
    assert.match(readFileSync(join(out, `${DZI_NAME}.dzi`), 'utf8'), /<Size Width="700" Height="530"\/>/);
    for (const f of ['openseadragon.min.js', 'LICENSE.txt', 'images/zoomin_rest.png'])
      assert.ok(existsSync(join(out, 'openseadragon', f)), f);
  });

  test("the thumbnail's longest side is the number asked for (never enlarged), its colours the blend's", async () => {
    // Left half villus on grey, right half bare blue: away from the seam every thumbnail pixel is one of two colours.
    const [width, height] = [1000, 600];
    const rgb = new Uint8Array(width * height * 3);
    const labels = new Uint8Array(width * height);
    for (let i = 0; i < width * height; i++) {
      const left = i % width < width / 2;
      rgb.set(left ? [200, 200, 200] : [40, 60, 220], i * 3);
      labels[i] = left ? 1 : 0;
    }
    const blended = referenceBlend(rgb, labels, width, height);
    const [leftColour, rightColour] = [blended.subarray(0, 3), blended.subarray((width - 1) * 3, width * 3)];
    for (const [max, size] of [
      [1024, [1000, 600]],
      [512, [512, 307]],
      [300, [300, 180]],
      [16, [16, 10]],
    ] as const) {
      const out = join(dir, `thumb${max}`);
      const views = await writeOverlayViews(rgbBandsFromArray(rgb, width, height), labelRasterFromArray(labels, width, height), out, {
        title: 't',
        thumbnailMax: max,
      });
      const thumb = await sharp(join(out, THUMBNAIL)).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([thumb.info.width, thumb.info.height], size, `--thumbnail ${max}`);
      assert.deepEqual(views.thumbnail, { width: size[0], height: size[1] });
      const w = size[0];
      for (const [x, colour] of [
        [Math.floor(w / 4), leftColour],
        [Math.floor((3 * w) / 4), rightColour],
      ] as const) {
        const at = (Math.floor(size[1] / 2) * w + x) * 3;
        for (let k = 0; k < 3; k++) close(thumb.data[at + k]!, colour[k]!, 1, `--thumbnail ${max} x ${x}`);
      }
    }
  });

  test('a failure leaves the previous views and no temporary folder', async () => {
    const out = join(dir, 'kept');
    mkdirSync(out);
    writeFileSync(join(out, 'marker'), 'old');
    const { rgb, labels } = randomImage(300, 600, 3);
    const source = rgbBandsFromArray(rgb, 300, 600);
    const failing = {
      ...source,
      readRows: async (y0: number, rows: number) => (y0 >= 256 ? Promise.reject(new Error('disk gone')) : source.readRows(y0, rows)),
    };
    await assert.rejects(writeOverlayViews(failing, labelRasterFromArray(labels, 300, 600), out, { title: 'x' }), /disk gone/);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('kept')),
      ['kept'],
    );
    assert.deepEqual(readdirSync(out), ['marker']);
  });

  test("a synthetic slide through OpenSlide, on its label map's grid", async () => {
    const slide = await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: 1200, height: 800, seed: 9, mpp: 1 });
    const labels = await openLabelTiff(slide.labels, 1);
    const opened = OpenSlide.open(slide.slide);
    try {
      const source = slideRgbBands(opened, labels.downsample, labels.width, labels.height);
      const views = await writeOverlayViews(source, labels, join(dir, 'synthetic'), { title: 'slide', thumbnailMax: 300 });
      assert.deepEqual(views.thumbnail, { width: 300, height: 200 });
      // Level 1 of the slide, blended here, against the top tile (JPEG loss allowed).
      const level1 = new Uint8Array(await sharp(slide.slide, { page: 1 }).raw().toBuffer());
      const bits = await labels.readRows(0, labels.height);
      blendLabels(level1, bits);
      const tile = await sharp(join(dir, 'synthetic', `${DZI_NAME}_files`, String(views.levels.length - 1), '0_0.jpg'))
        .raw()
        .toBuffer();
      let error = 0;
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < 256; x++)
          for (let k = 0; k < 3; k++) error += Math.abs(tile[(y * 256 + x) * 3 + k]! - level1[(y * 600 + x) * 3 + k]!);
      assert.ok(error / (256 * 256 * 3) < 4, `mean error ${error / (256 * 256 * 3)}`);
    } finally {
      opened.close();
    }
  });
});
