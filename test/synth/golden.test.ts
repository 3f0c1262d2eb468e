// The same seed gives the same bytes, across versions too: digests of a patch, a slide window and a slide crop,
// written down before the two painters became one (src/synth/paint.ts). A deliberate change of the generator
// (a new calibration) changes them, and then the learning and slide benchmarks are rerun with it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { synthesizePatch } from '../../src/synth/patch/placenta.js';
import { slideCropPatch } from '../../src/synth/patch/slide_crop.js';
import { SlidePainter } from '../../src/synth/slide/paint.js';

const digest = (...parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
};

test('a patch: seed 1, 96 pixels at the default pixel size', () => {
  const p = synthesizePatch(1, 96);
  assert.deepEqual([digest(p.image), digest(p.level0, p.level1)], ['f2b7be9ddc59457a', '5f2ad730860014f0']);
});

test('a slide window: seed 5, 8000 x 6000 at 1 um/px, 256 x 256 at (3500, 2500)', () => {
  const rgb = new Uint8Array(256 * 256 * 3);
  const labels = new Uint8Array(256 * 256);
  new SlidePainter(8000, 6000, 5, 1).paintWindow(3500, 2500, 256, 256, rgb, labels);
  assert.deepEqual([digest(rgb), digest(labels)], ['0a65e9994fe323a6', 'c5f36c4b62e0faad']);
});

test('a slide crop: seed 8, 96 pixels at 1 um/px', () => {
  const c = slideCropPatch(8, 96, 1);
  assert.deepEqual(
    [digest(c.image), digest(c.level0, c.level1), c.window],
    ['ae34cd97f121e84e', '3807f9d1d8039273', { side: 6000, x: 659, y: 1155 }],
  );
});
