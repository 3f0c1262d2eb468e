// Slide-level Dice and area fractions against hand-counted truth: a synthetic slide's own labels, with one
// class erased from a strip, scored against the labels themselves.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compareLabels } from '../../src/slides/export/compare_labels.js';
import { PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function writePlane(path: string, width: number, height: number, data: Uint8Array, mpp: number, fullPyramid = false): Promise<void> {
  const w = await PyramidalTiffWriter.create(path, { width, height, channels: 1, tileSize: 128, mpp, fullPyramid });
  for (let y = 0; w.nextBandRows > 0; ) {
    const rows = w.nextBandRows;
    await w.writeBand(data.subarray(y * width, (y + rows) * width));
    y += rows;
  }
  await w.close();
}

describe('compareLabels', () => {
  test('Dice and fractions equal the hand count for a prediction with one class erased from a strip', async () => {
    const synth = await writeSyntheticSlide({ out: join(dir, 's.tif'), width: 1024, height: 768, seed: 2, mpp: 0.5 });
    const truthSlide = OpenSlide.open(synth.labels);
    const rgba = truthSlide.readRegion(0, 0, 1, 512, 384);
    truthSlide.close();
    const truth = new Uint8Array(512 * 384);
    for (let i = 0; i < truth.length; i++) truth[i] = rgba[4 * i]!;
    const predicted = truth.slice();
    let erased = 0;
    let villus = 0;
    let tissue = 0;
    for (let i = 0; i < truth.length; i++) {
      if (truth[i]! & 1) villus++;
      if (truth[i]! & 16) tissue++;
      if (i % 512 < 100 && truth[i]! & 1) {
        predicted[i] = truth[i]! & ~1;
        erased++;
      }
    }
    assert.ok(erased > 100 && villus > erased);
    const path = join(dir, 'pred.tif');
    await writePlane(path, 512, 384, predicted, 1.0);
    const a = compareLabels(path, synth.labels, { classBits: 4, tissueBit: 16, downsample: 2 });
    assert.deepEqual([a.pixels, a.predictedTissue, a.trueTissue], [512 * 384, tissue, tissue]);
    const v = a.classes[0]!;
    assert.deepEqual([v.truePositive, v.falsePositive, v.falseNegative], [villus - erased, 0, erased]);
    assert.equal(v.dice, (2 * (villus - erased)) / (2 * villus - erased));
    assert.equal(v.trueFraction, villus / tissue);
    assert.equal(v.predictedFraction, (villus - erased) / tissue);
    for (const c of a.classes.slice(1)) assert.equal(c.dice, 1);
  });

  test("with no pyramid level at the prediction's size, the truth is sampled at pixel centres", async () => {
    const synth = await writeSyntheticSlide({ out: join(dir, 't.tif'), width: 900, height: 600, seed: 3, mpp: 0.5 });
    const truthSlide = OpenSlide.open(synth.labels);
    const level0 = truthSlide.readRegion(0, 0, 0, 900, 600);
    truthSlide.close();
    // A prediction at 1.5 um/px (3 level-0 pixels each) over the level-0 region from (30, 60): the truth's nearest samples.
    const [w, h] = [250, 170];
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[y * w + x] = level0[4 * (Math.floor(60 + (y + 0.5) * 3) * 900 + Math.floor(30 + (x + 0.5) * 3))]!;
    const path = join(dir, 'pred3.tif');
    await writePlane(path, w, h, data, 1.5);
    const a = compareLabels(path, synth.labels, { classBits: 4, tissueBit: 16, downsample: 3, origin: { x: 30, y: 60 } });
    for (const c of a.classes) assert.equal(c.dice, 1, `class ${c.bit}`);
    assert.ok(a.trueTissue > 0 && a.trueTissue === a.predictedTissue);
  });

  test('padded label maps (odd grids, full pyramids) are compared within their true sizes', async () => {
    // Tissue everywhere, so padding read as labels (0) would show as a difference or an extra pixel.
    const [W, H] = [301, 223];
    const truth = new Uint8Array(W * H);
    for (let i = 0; i < truth.length; i++) truth[i] = 16 | (((i % W) * 7 + Math.floor(i / W) * 3) % 16);
    const truthPath = join(dir, 'odd_truth.tif');
    await writePlane(truthPath, W, H, truth, 0.5, true);
    // The same grid (level 0), and at 3 level-0 pixels per pixel (no level: centre samples, the last column's
    // centre 301.5 past the truth's edge, so its last column stands in).
    for (const d of [1, 3]) {
      const [w, h] = [Math.ceil(W / d), Math.ceil(H / d)];
      const data = new Uint8Array(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          data[y * w + x] = truth[Math.min(H - 1, Math.floor((y + 0.5) * d)) * W + Math.min(W - 1, Math.floor((x + 0.5) * d))]!;
      const path = join(dir, `odd_pred${d}.tif`);
      await writePlane(path, w, h, data, 0.5 * d, true);
      const stored = OpenSlide.open(path);
      // 301 x 223 in 128-px tiles is padded to 304 x 224; 101 x 75 fits one tile as it is.
      assert.deepEqual(stored.dimensions, d === 1 ? [304, 224] : [w, h]);
      stored.close();
      const a = compareLabels(path, truthPath, { classBits: 4, tissueBit: 16, downsample: d });
      assert.deepEqual([a.pixels, a.predictedTissue, a.trueTissue], [w * h, w * h, w * h], `downsample ${d}`);
      for (const c of a.classes) assert.equal(c.dice, 1, `downsample ${d}, class ${c.bit}`);
    }
  });
});
