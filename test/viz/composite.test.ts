// The composite read back from its PNG: panels pasted pixel for pixel where the layout says, titles that
// actually rendered (a missing font would leave the bands blank), and a legend holding every tissue colour.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { FINAL_CLASSES } from '../../src/data/classes.js';
import { fromTypedArray } from '../../src/torch/creation.js';
import { writeComposite } from '../../src/viz/composite.js';
import { blendOverlay, type ClassMasks, masksFromMaps } from '../../src/viz/overlay.js';
import type { Rect } from '../../src/viz/svg.js';
import { Rng } from '../helpers/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-viz-composite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const W = 200;
const H = 150;
const rng = new Rng(7);
const image = { width: W, height: H, data: Uint8Array.from(rng.uniform(W * H * 3, 0, 256), Math.floor) };

/** Class c covers a vertical stripe; the stripes overlap, so the drawing order shows. */
function stripes(offset: number): Float32Array {
  const maps = new Float32Array(4 * H * W);
  for (let c = 0; c < 4; c++) {
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) maps[(c * H + y) * W + x] = x >= offset + 40 * c && x < offset + 40 * c + 60 ? 0.9 : 0.1;
  }
  return maps;
}
const prediction = fromTypedArray(stripes(0), [4, H, W]);
const groundTruth = fromTypedArray(stripes(20), [4, H, W]);

interface Decoded {
  data: Buffer;
  width: number;
  height: number;
}
async function decode(path: string): Promise<Decoded> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data, width: info.width, height: info.height };
}
function crop(img: Decoded, r: Rect): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++)
    out.set(img.data.subarray(((r.y + y) * img.width + r.x) * 3, ((r.y + y) * img.width + r.x + r.width) * 3), y * r.width * 3);
  return out;
}
function containsColour(pixels: Uint8Array, colour: readonly number[]): boolean {
  for (let i = 0; i < pixels.length; i += 3)
    if (pixels[i] === colour[0] && pixels[i + 1] === colour[1] && pixels[i + 2] === colour[2]) return true;
  return false;
}
function darkPixels(pixels: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < pixels.length; i += 3) if ((pixels[i] as number) + (pixels[i + 1] as number) + (pixels[i + 2] as number) < 200) n++;
  return n;
}

describe('composite with ground truth', async () => {
  const path = join(dir, 'sample.png');
  const layout = await writeComposite(path, { image, prediction, groundTruth, heading: 'sample 1' });
  const png = await decode(path);
  const expected = [
    image.data,
    blendOverlay(image, masksFromMaps(prediction, W, H)).data,
    blendOverlay(image, masksFromMaps(groundTruth, W, H)).data,
  ];

  test('is three image-sized panels side by side above the legend, within the picture', () => {
    assert.deepEqual([png.width, png.height], [layout.width, layout.height]);
    assert.equal(layout.panels.length, 3);
    layout.panels.forEach((p, i) => {
      assert.deepEqual([p.width, p.height, p.y], [W, H, layout.panels[0]?.y]);
      if (i > 0) assert.ok(p.x >= (layout.panels[i - 1] as Rect).x + W, 'panels do not overlap');
    });
    const last = layout.panels[2] as Rect;
    assert.ok(png.width >= 3 * W && last.x + W <= png.width);
    assert.ok(layout.legend.y >= last.y + H, 'the legend is below the panels');
    assert.ok(layout.legend.y + layout.legend.height <= png.height && layout.legend.x + layout.legend.width <= png.width);
  });

  test('the panels are the original, the prediction overlay and the ground-truth overlay, exactly', () => {
    layout.panels.forEach((p, i) => {
      assert.ok(Buffer.from(crop(png, p)).equals(Buffer.from(expected[i] as Uint8Array)), `panel ${i}`);
    });
    assert.ok(!Buffer.from(expected[1] as Uint8Array).equals(Buffer.from(expected[2] as Uint8Array)), 'prediction and truth differ');
  });

  test('the legend holds every tissue colour', () => {
    const legend = crop(png, layout.legend);
    for (const c of FINAL_CLASSES) assert.ok(containsColour(legend, c.colour), `${c.display} ${c.colour}`);
    assert.ok(darkPixels(legend) > 200, 'the tissue names are drawn');
  });

  test('each panel title and the heading are drawn (a font rendered)', () => {
    for (const p of layout.panels) {
      const band = crop(png, { x: p.x, y: p.y - 24, width: p.width, height: 24 });
      assert.ok(darkPixels(band) > 30, `title above panel at x=${p.x}`);
    }
    assert.ok(darkPixels(crop(png, { x: 0, y: 0, width: png.width, height: 40 })) > 30);
  });

  test('leaves no temporary file', () => {
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('sample')),
      ['sample.png'],
    );
  });
});

test('without ground truth the composite has two panels, and accepts masks', async () => {
  const masks: ClassMasks = masksFromMaps(prediction, W, H);
  const path = join(dir, 'two.png');
  const layout = await writeComposite(path, { image, prediction: masks });
  const png = await decode(path);
  assert.equal(layout.panels.length, 2);
  assert.ok(png.width < 3 * W);
  assert.ok(Buffer.from(crop(png, layout.panels[1] as Rect)).equals(Buffer.from(blendOverlay(image, masks).data)));
});

test('tiny images get columns wide enough for the titles and the legend', async () => {
  const tiny = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(200) };
  const layout = await writeComposite(join(dir, 'tiny.png'), {
    image: tiny,
    prediction: fromTypedArray(new Float32Array(4 * 8 * 8), [4, 8, 8]),
  });
  const [a, b] = layout.panels as [Rect, Rect];
  assert.ok(b.x - a.x >= 100, 'title columns are wider than the 8-pixel panels');
  assert.ok(layout.legend.height > 30, 'the legend wraps onto several rows');
});
