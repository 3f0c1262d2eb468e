// Tissue detection against known tissue: a drawn thumbnail (discs of stain on noisy glass, a small hole, a
// large hole, a speck, two sections a narrow gap apart), an empty slide, and a synthetic whole slide whose
// ground truth marks its sections.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { detectTissue, otsuThreshold, type RgbImage, slideTissueMask } from '../../src/slides/pipeline/tissue.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { Rng } from '../helpers/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-tissue-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const GLASS = [236, 240, 237];
const STAIN = [200, 120, 170];

/** A 200 x 150 thumbnail at 10 um/px: `inside(x, y)` says where stain is; glass and stain get +-6 noise. */
function thumbnail(inside: (x: number, y: number) => boolean): RgbImage {
  const [width, height] = [200, 150];
  const rng = new Rng(5);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = inside(x, y) ? STAIN : GLASS;
      for (let c = 0; c < 3; c++)
        data[3 * (y * width + x) + c] = Math.max(0, Math.min(255, colour[c]! + Math.round((rng.next() - 0.5) * 12)));
    }
  }
  return { width, height, data, mpp: 10 };
}

const disc = (cx: number, cy: number, r: number) => (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

describe('tissue detection', () => {
  test('Otsu splits a two-peaked histogram between the peaks', () => {
    const h = new Array<number>(256).fill(0);
    h[20] = 500;
    h[200] = 300;
    const t = otsuThreshold(h);
    assert.ok(t >= 20 && t < 200, `threshold ${t}`);
    h[110] = 1000; // a third peak in the middle joins the nearer side
    assert.ok(otsuThreshold(h) >= 20 && otsuThreshold(h) < 200);
  });

  test('a drawn thumbnail: discs found, a small hole filled, a large hole kept, a speck removed', () => {
    const big = disc(50, 60, 35);
    const smallHole = disc(50, 60, 4); // 50 px = 5,000 um^2: filled
    const ring = disc(140, 70, 45);
    const largeHole = disc(140, 70, 20); // 1,257 px = 125,700 um^2: kept
    const speck = disc(30, 130, 2); // 13 px = 1,300 um^2: removed
    const image = thumbnail((x, y) => (big(x, y) && !smallHole(x, y)) || (ring(x, y) && !largeHole(x, y)) || speck(x, y));
    const mask = detectTissue(image, { closing: 0 });
    const at = (x: number, y: number) => mask.data[y * mask.width + x];
    assert.equal(mask.mpp, 10);
    assert.ok(mask.threshold > 0.05 && mask.threshold < 0.35, `threshold ${mask.threshold}`);
    // Away from the edges (the 3x3 blur may move them by a pixel) the mask is exactly the drawing.
    const expected = (x: number, y: number) => big(x, y) || (ring(x, y) && !largeHole(x, y));
    let checked = 0;
    for (let y = 0; y < mask.height; y++) {
      for (let x = 0; x < mask.width; x++) {
        let near = false;
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (expected(x + dx, y + dy) !== expected(x, y)) near = true;
        if (near) continue;
        assert.equal(at(x, y), expected(x, y) ? 1 : 0, `pixel (${x}, ${y})`);
        checked++;
      }
    }
    assert.ok(checked > 0.8 * mask.width * mask.height);
    assert.equal(at(50, 60), 1, 'the small hole is filled');
    assert.equal(at(140, 70), 0, 'the large hole is kept');
    assert.equal(at(30, 130), 0, 'the speck is removed');
    const area = (Math.PI * 35 ** 2 + Math.PI * (45 ** 2 - 20 ** 2)) * 100;
    assert.ok(Math.abs(mask.area / area - 1) < 0.05, `area ${mask.area} vs ${area}`);
  });

  test('the closing bridges a narrow gap between tissue, not a wide one', () => {
    const left = (x: number, y: number) => x >= 20 && x < 95 && y >= 30 && y < 120;
    const right = (x: number, y: number) => x >= 100 && x < 180 && y >= 30 && y < 120;
    const image = thumbnail((x, y) => left(x, y) || right(x, y)); // a 50 um gap at 10 um/px
    assert.equal(detectTissue(image, { closing: 0 }).data[75 * 200 + 97], 0);
    assert.equal(detectTissue(image, { closing: 40 }).data[75 * 200 + 97], 1);
    assert.equal(detectTissue(image, { closing: 40 }).data[75 * 200 + 10], 0, 'glass beyond the tissue stays glass');
  });

  test('the closing adds nothing to convex tissue: no blocks along the border, no squared corners', () => {
    // A disc 3 px from the left border and one at the top-right corner; closing 60 um = 6 px reaches past the border.
    const a = disc(38, 75, 35);
    const b = disc(185, 12, 25);
    const image = thumbnail((x, y) => a(x, y) || b(x, y));
    const open = detectTissue(image, { closing: 0 });
    const closed = detectTissue(image, { closing: 60 });
    const differing = open.data.filter((v, i) => v !== closed.data[i]).length;
    assert.ok(differing <= 4, `${differing} pixels changed by closing convex discs`);
    for (const y of [60, 75, 90]) assert.equal(closed.data[y * 200 + 1], 0, `(1, ${y}): glass between the disc and the border`);
  });

  test('an empty slide (glass only) has no tissue', () => {
    const mask = detectTissue(thumbnail(() => false));
    assert.equal(mask.area, 0);
  });

  test('a synthetic slide: the mask matches its sections and holds the labelled tissue', async () => {
    const out = join(dir, 'slide.tif');
    const synth = await writeSyntheticSlide({ out, width: 3072, height: 2560, seed: 8, mpp: 0.5 });
    const slide = OpenSlide.open(synth.slide);
    const truth = OpenSlide.open(synth.labels);
    try {
      const mask = slideTissueMask(slide, 0.5);
      assert.equal(mask.mpp, 16);
      const f = mask.mpp / 0.5;
      let inter = 0;
      let union = 0;
      let classes = 0;
      let classesInside = 0;
      for (let y = 0; y < mask.height; y++) {
        // The truth under each mask pixel's centre.
        const row = truth.readRegion(0, Math.floor((y + 0.5) * f), 0, 3072, 1);
        for (let x = 0; x < mask.width; x++) {
          const label = row[4 * Math.min(3071, Math.floor((x + 0.5) * f))]!;
          const t = label & 16 ? 1 : 0;
          const m = mask.data[y * mask.width + x]!;
          inter += t & m;
          union += t | m;
          if (label & 15) {
            classes++;
            classesInside += m;
          }
        }
      }
      assert.ok(inter / union > 0.85, `IoU with the sections ${inter / union}`);
      assert.ok(classesInside / classes > 0.97, `labelled tissue inside the mask: ${classesInside / classes}`);
      assert.ok(Math.abs(mask.area / (synth.pixelCounts.tissue! * 0.25) - 1) < 0.1, 'tissue area within 10% of the truth');
    } finally {
      slide.close();
      truth.close();
    }
  });
});
