// Every file of every split is checked before training starts: all broken ones reported at once, each
// with its split, instead of the first one at the batch (or evaluation) that reaches it.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { DataError } from '../../src/data/errors.js';
import { checkSplitImages } from '../../src/data/preflight.js';
import { writeMiniDataset } from '../helpers/pmft_dataset.js';

test('broken images and label layers in any split are all named, with their split, before training', async () => {
  const m = await writeMiniDataset({ count: 7, trainCount: 5, height: 8, width: 8 });
  try {
    const cfg = parseConfig('seed: 7\nimg_size: 16\ntrain:\n  dataset: mini\nval:\n  dataset: mini\ntest:\n  dataset: mini\n');
    await checkSplitImages(cfg, 100, m.catalog);
    const image = (name: string) => join(m.root, 'jpg', `${name}.jpg`);
    const layer = join(m.root, 'ann', `${m.train[1]}_seml1.png`);
    const valImage = image(m.val[0] as string);
    writeFileSync(valImage, readFileSync(valImage).subarray(0, 30)); // cut inside the JPEG header
    writeFileSync(layer, 'not a png');
    await assert.rejects(checkSplitImages(cfg, 100, m.catalog), (e: Error) => {
      assert.ok(e instanceof DataError);
      const lines = e.message.split('\n');
      assert.match(lines[0] as string, /^2 of 21 dataset files cannot be read/);
      assert.ok(lines.some((l) => l.startsWith(`  ${layer} (train split, `)));
      // The val column is both the val and the test split: named by the first that uses it.
      assert.ok(lines.some((l) => l.startsWith(`  ${valImage} (val split, `)));
      return true;
    });
  } finally {
    rmSync(m.dir, { recursive: true, force: true });
  }
});
