// The viewer's files: the blend equals the project's overlay (viz/overlay.ts); the slide layer and each class
// layer have the level and tile sizes DeepZoom prescribes, the slide's tiles its pixels (up to JPEG's loss),
// each class tile its class's bit exactly; labels.js holds the label map; the thumbnail is as large as asked
// with the blend's colours; the page carries its tile sources and OpenSeadragon; a failure leaves nothing
// behind. The page's behaviour in a browser is test/browser/viewer.test.ts's.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import {
  blendLabels,
  classLayer,
  DZI_NAME,
  DZI_TILE_SIZE,
  dziLevels,
  LABELS_SCRIPT,
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

  test('slide and class layers, labels.js, thumbnail, page and OpenSeadragon', async () => {
    // The slide at 700 x 530, its labels at half that (2 slide pixels per label pixel, rounded up).
    const [width, height] = [700, 530];
    const [lw, lh] = [350, 265];
    // A smooth slide, which JPEG keeps closely; the labels are noise.
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++)
      for (let k = 0; k < 3; k++) rgb[i * 3 + k] = 128 + Math.round(100 * Math.sin((i % width) / 23 + k) * Math.cos(i / width / 31));
    const { labels } = randomImage(lw, lh, 3);
    const out = join(dir, 'views');
    const progress: number[] = [];
    const views = await writeOverlayViews(rgbBandsFromArray(rgb, width, height), labelRasterFromArray(labels, lw, lh), out, {
      title: 'case <1>',
      mpp: 0.5,
      labelScale: 2,
      details: [['Tissue area', '1.5 mm²']],
      thumbnailMax: 200,
      onProgress: (done) => progress.push(done),
    });
    // The slide's bands, then the labels'.
    assert.deepEqual(progress, [256, 512, 530, 530 + 256, 530 + 265]);
    assert.deepEqual(views.levels, dziLevels(width, height));
    assert.deepEqual(views.labelLevels, dziLevels(lw, lh));
    // Every level's folder of every layer holds exactly its grid of tiles, edge tiles cut to the image.
    const layers = [
      { name: DZI_NAME, levels: views.levels, ext: 'jpg' },
      ...[0, 1, 2, 3].map((c) => ({ name: classLayer(c), levels: views.labelLevels, ext: 'png' })),
    ];
    for (const { name, levels, ext } of layers) {
      for (const [index, level] of levels.entries()) {
        const cols = Math.ceil(level.width / DZI_TILE_SIZE);
        const rows = Math.ceil(level.height / DZI_TILE_SIZE);
        const files = readdirSync(join(out, `${name}_files`, String(index))).sort();
        const expected = [];
        for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) expected.push(`${c}_${r}.${ext}`);
        assert.deepEqual(files, expected.sort(), `${name} level ${index}`);
        const last = await sharp(join(out, `${name}_files`, String(index), `${cols - 1}_${rows - 1}.${ext}`)).metadata();
        assert.deepEqual([last.width, last.height], [level.width - (cols - 1) * DZI_TILE_SIZE, level.height - (rows - 1) * DZI_TILE_SIZE]);
      }
      const format = ext === 'jpg' ? 'jpg' : 'png';
      assert.match(readFileSync(join(out, `${name}.dzi`), 'utf8'), new RegExp(`Format="${format}"`));
    }
    // A top-level slide tile is the slide up to JPEG's loss: no class is burned in.
    const tile = await sharp(join(out, `${DZI_NAME}_files`, String(views.levels.length - 1), '1_1.jpg'))
      .raw()
      .toBuffer();
    let error = 0;
    for (let y = 0; y < 256; y++)
      for (let x = 0; x < 256; x++)
        for (let k = 0; k < 3; k++) error += Math.abs(tile[(y * 256 + x) * 3 + k]! - rgb[((256 + y) * width + 256 + x) * 3 + k]!);
    assert.ok(error / (256 * 256 * 3) < 2, `mean JPEG error ${error / (256 * 256 * 3)}`);
    // Each class's top-level tiles are its colour, opaque exactly where its bit is set.
    const top = String(views.labelLevels.length - 1);
    for (const [c, colour] of [
      [0, [128, 0, 0]],
      [2, [0, 224, 224]],
    ] as const) {
      const png = await sharp(join(out, `${classLayer(c)}_files`, top, '1_0.png'))
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.deepEqual([png.info.width, png.info.height], [lw - 256, 256]);
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < lw - 256; x++) {
          const on = (labels[y * lw + 256 + x]! >> c) & 1;
          const o = (y * (lw - 256) + x) * 4;
          const pixel = [...png.data.subarray(o, o + 4)];
          assert.deepEqual(on ? pixel : pixel[3], on ? [...colour, 255] : 0, `class ${c} at ${256 + x},${y}`);
        }
    }
    // labels.js: the label map itself (it is small), and slide pixels per label pixel.
    const script = readFileSync(join(out, LABELS_SCRIPT), 'utf8');
    const packed = JSON.parse(script.slice(script.indexOf('{'), script.lastIndexOf('}') + 1));
    assert.deepEqual([packed.width, packed.height, packed.scale], [lw, lh, 2]);
    assert.deepEqual(new Uint8Array(gunzipSync(Buffer.from(packed.gzip, 'base64'))), labels);

    // The thumbnail is the slide's shape, 200 px on its longest side (530 * 200 / 700 = 151.4 on the other).
    const thumb = await sharp(join(out, THUMBNAIL)).metadata();
    assert.deepEqual([thumb.width, thumb.height], [200, 151]);
    assert.deepEqual(views.thumbnail, { width: 200, height: 151 });

    const page = readFileSync(join(out, VIEWER_PAGE), 'utf8');
    assert.match(page, /<script src="openseadragon\/openseadragon\.min\.js"><\/script>/);
    assert.match(page, /<script src="labels\.js"><\/script>/);
    assert.match(page, /"slide":\{"width":700,"height":530\}/);
    assert.match(page, /"labels":\{"width":350,"height":265,"scale":2\}/);
    assert.match(page, /<th>Tissue area<\/th><td>1\.5 mm²<\/td>/);
    assert.match(page, /case &#60;1&#62;/);
    assert.doesNotMatch(page, /case <1>/, 'the title is escaped in the script too');
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
        mpp: 1,
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
    await assert.rejects(writeOverlayViews(failing, labelRasterFromArray(labels, 300, 600), out, { title: 'x', mpp: 1 }), /disk gone/);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('kept')),
      ['kept'],
    );
    assert.deepEqual(readdirSync(out), ['marker']);
  });

  test("a synthetic slide through OpenSlide: the scan's level 0 under its labels' level 1", async () => {
    const slide = await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: 1200, height: 800, seed: 9, mpp: 0.5 });
    const labels = await openLabelTiff(slide.labels, 1);
    const opened = OpenSlide.open(slide.slide);
    try {
      const source = slideRgbBands(opened, 1, 1200, 800);
      const views = await writeOverlayViews(source, labels, join(dir, 'synthetic'), {
        title: 'slide',
        mpp: 0.5,
        labelScale: 2,
        thumbnailMax: 300,
      });
      assert.deepEqual(views.thumbnail, { width: 300, height: 200 });
      assert.deepEqual(views.levels.at(-1), { width: 1200, height: 800 });
      // Level 0 of the slide against a top tile (JPEG loss allowed).
      const level0 = new Uint8Array(await sharp(slide.slide, { page: 0 }).raw().toBuffer());
      const tile = await sharp(join(dir, 'synthetic', `${DZI_NAME}_files`, String(views.levels.length - 1), '2_1.jpg'))
        .raw()
        .toBuffer();
      let error = 0;
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < 256; x++)
          for (let k = 0; k < 3; k++) error += Math.abs(tile[(y * 256 + x) * 3 + k]! - level0[((256 + y) * 1200 + 512 + x) * 3 + k]!);
      assert.ok(error / (256 * 256 * 3) < 4, `mean error ${error / (256 * 256 * 3)}`);
    } finally {
      opened.close();
    }
  });
});
