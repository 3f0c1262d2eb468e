// A label image padded to a full pyramid (a synthetic truth of odd size, as `mmfd segment`'s labels.tif of an odd
// grid) annotates its slide as the same labels written unpadded do: the same labelled box, the same coverage.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { ClassMap } from '../../src/annotations/class_map.js';
import { labelImageSource } from '../../src/annotations/label_image.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-label-image-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a padded label TIFF is read within its recorded size: the same box and coverage as the unpadded labels', async () => {
  const [width, height] = [301, 223];
  const synth = await writeSyntheticSlide({ out: join(dir, 's.tif'), width, height, seed: 3, mpp: 2, tileSize: 64 });
  const stored = await sharp(synth.labels).metadata();
  assert.deepEqual([stored.width, stored.height], [304, 224], 'padded to a multiple of 2^2');
  const png = join(dir, 'unpadded_labels.png');
  await sharp(synth.labels).extract({ left: 0, top: 0, width, height }).extractChannel(0).toColourspace('b-w').png().toFile(png);
  const o = { classMap: ClassMap.load(), ignoreUnmapped: false, slideWidth: width, slideHeight: height, slide: 's.tif' };
  const [padded, plain] = await Promise.all([labelImageSource(synth.labels, o), labelImageSource(png, o)]);
  assert.deepEqual(padded.regions[0]!.box, plain.regions[0]!.box);
  const grid = { x0: 0, y0: 0, step: 1, width, height };
  const [a, b] = await Promise.all([padded.cover(grid), plain.cover(grid)]);
  assert.ok(a.labelled.some((v) => v > 0));
  assert.deepEqual(a, b);
});
