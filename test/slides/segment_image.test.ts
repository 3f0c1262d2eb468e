// One image at its real scale (what `mmfd visualize` runs): resampled to the predictor's input_mpp and tiled.
// A pixelwise predictor makes every output pixel known from the image alone: the area mean of the image pixels
// the grid pixel covers (2 x 2 at 0.5 -> 1.0 um/px), the bilinear blend going up, the pixel itself at equal
// scale; an image smaller than one input stays its own size (one tile, nothing stretched).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeRgb, type RgbImage } from '../../src/data/images.js';
import type { Predictor } from '../../src/slides/pipeline/predictor.js';
import { segmentImage } from '../../src/slides/pipeline/segment_image.js';
import { synthesizePatch } from '../../src/synth/patch/placenta.js';
import * as torch from '../../src/torch/index.js';

/** Two classes from each pixel's own colour: p0 = R, p1 = (G + B) / 2. */
const pixelwise = (tileSize: number): Predictor & { tiles: number } => {
  const p = {
    tileSize,
    classes: ['r', 'gb'],
    inputMpp: 1.0,
    id: 'pixelwise',
    tiles: 0,
    predict: (batch: torch.Tensor) => {
      p.tiles += batch.shape[0]!;
      return torch.tidy(() => torch.cat([batch.narrow(1, 0, 1), batch.narrow(1, 1, 2).mean([1], true)], 1));
    },
    dispose() {},
  };
  return p;
};

/** What the pixelwise predictor gives for an RGB triple in [0, 1]. */
const expected = (rgb: readonly number[]) => [rgb[0]!, (rgb[1]! + rgb[2]!) / 2];

/** Pixel (x, y) of an 8-bit RGB image, in [0, 1]; white past its edge. */
const at = (img: RgbImage, x: number, y: number, c: number) =>
  x < img.width && y < img.height ? img.data[(y * img.width + x) * 3 + c]! / 255 : 1;

function maxError(probabilities: Float32Array, width: number, height: number, truth: (x: number, y: number) => number[]): number {
  let worst = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const want = truth(x, y);
      for (let c = 0; c < 2; c++) worst = Math.max(worst, Math.abs(probabilities[(c * height + y) * width + x]! - want[c]!));
    }
  return worst;
}

/** The mean of the 2 x 2 image pixels under grid pixel (x, y). */
const mean2x2 = (img: RgbImage) => (x: number, y: number) =>
  expected(
    [0, 1, 2].map(
      (c) =>
        (at(img, 2 * x, 2 * y, c) + at(img, 2 * x + 1, 2 * y, c) + at(img, 2 * x, 2 * y + 1, c) + at(img, 2 * x + 1, 2 * y + 1, c)) / 4,
    ),
  );

describe('segmentImage', () => {
  const patch = synthesizePatch(3, 300, 0.5);
  const img: RgbImage = { data: patch.image, width: 300, height: 300 };

  test('a 0.5 um/px patch at a 1.0 um/px input: 150 x 150, each pixel the mean of its 2 x 2, in 3 x 3 tiles', async () => {
    const predictor = pixelwise(64);
    const seg = await segmentImage(img, 0.5, predictor);
    assert.deepEqual([seg.width, seg.height, seg.plan.gridMpp, seg.plan.resample], [150, 150, 1, 'area']);
    // Stride 64 - 16 = 48: tiles at 0, 48, 96 cover 150.
    assert.equal(seg.tiles, 9);
    assert.equal(predictor.tiles, 9);
    const worst = maxError(seg.probabilities, 150, 150, mean2x2(img));
    assert.ok(worst < 1e-5, `max error ${worst}`);
  });

  test('an image smaller than one input is one tile at its own size; at the input mpp it is read as it is', async () => {
    const small: RgbImage = { data: patch.image.slice(0, 40 * 3 * 30), width: 40, height: 30 };
    const seg = await segmentImage(small, 1.0, pixelwise(64));
    assert.deepEqual([seg.width, seg.height, seg.tiles, seg.plan.resample], [40, 30, 1, 'none']);
    const worst = maxError(seg.probabilities, 40, 30, (x, y) => expected([0, 1, 2].map((c) => at(small, x, y, c))));
    assert.ok(worst < 1e-6, `max error ${worst}`);
  });

  test('an image more than 2x coarser than the input is refused, naming it, unless upsampling is allowed', async () => {
    const coarse: RgbImage = { data: patch.image.slice(0, 20 * 3 * 16), width: 20, height: 16 };
    await assert.rejects(segmentImage(coarse, 4.0, pixelwise(64), { name: 'coarse.png' }), /coarse\.png: .*4\.0x coarser/);
    const seg = await segmentImage(coarse, 4.0, pixelwise(64), { allowUpsample: true });
    assert.deepEqual([seg.width, seg.height], [80, 64]);
  });

  test('a coarser image is enlarged bilinearly: 2.0 -> 1.0 um/px doubles each side', async () => {
    const coarse: RgbImage = { data: patch.image.slice(0, 75 * 3 * 60), width: 75, height: 60 };
    const seg = await segmentImage(coarse, 2.0, pixelwise(64));
    assert.deepEqual([seg.width, seg.height, seg.plan.resample], [150, 120, 'bilinear']);
    // Grid pixel g sits at image position (g + 0.5) / 2 - 0.5: odd g is 3/4 of pixel (g-1)/2 and 1/4 of the next.
    const lerp = (x: number, y: number, c: number) => {
      const axis = (g: number): [number, number, number] => {
        const p = Math.max(0, (g + 0.5) / 2 - 0.5);
        return [Math.floor(p), Math.floor(p) + 1, p - Math.floor(p)];
      };
      const [x0, x1, fx] = axis(x);
      const [y0, y1, fy] = axis(y);
      const row = (yy: number) => (1 - fx) * at(coarse, x0, yy, c) + fx * at(coarse, x1, yy, c);
      return (1 - fy) * row(y0) + fy * row(y1);
    };
    const worst = maxError(seg.probabilities, 150, 120, (x, y) => expected([0, 1, 2].map((c) => lerp(x, y, c))));
    assert.ok(worst < 1e-5, `max error ${worst}`);
  });

  const example = '../shared/data/placenta-example.jpg';
  test('the real H&E example at 0.5 um/px: 512 x 512 at 1.0 um/px, tiled', { skip: !existsSync(example) && `no ${example}` }, async () => {
    const photo = await decodeRgb(example);
    assert.deepEqual([photo.width, photo.height], [1024, 1024]);
    const seg = await segmentImage(photo, 0.5, pixelwise(128));
    assert.deepEqual([seg.width, seg.height, seg.tiles], [512, 512, 25]);
    const worst = maxError(seg.probabilities, 512, 512, mean2x2(photo));
    assert.ok(worst < 1e-5, `max error ${worst}`);
  });
});
