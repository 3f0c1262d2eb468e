// The reference's overlay arithmetic on pixels worked out by hand: alpha 0.5 against the original,
// truncated to uint8, classes in order with the later one winning, p > 0.5 strictly, σ before the resize.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { fromTypedArray } from '../../src/torch/creation.js';
import { blendOverlay, imageFromTensor, masksFromMaps, referenceStem, writeReferenceOverlay } from '../../src/viz/overlay.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-viz-overlay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A 3x2 image; pixel i is at index i in row-major order.
const IMAGE = {
  width: 3,
  height: 2,
  data: new Uint8Array([10, 200, 255, 0, 0, 0, 255, 255, 255, 7, 8, 9, 100, 101, 102, 50, 60, 70]),
};

/** Probability maps [4,2,3]: maps[c] lists the six pixels of class c. */
function maps(perClass: number[][]) {
  return fromTypedArray(new Float32Array(perClass.flat()), [4, 2, 3]);
}

describe('blendOverlay', () => {
  const probabilities = maps([
    [0.9, 0.9, 0, 0, 0, 0], // villus (128,0,0) on pixels 0 and 1
    [0, 0, 0, 0, 0.51, 0], // fibrin deposit (0,128,0) on pixel 4, just above the threshold
    [0, 0.7, 1, 0, 0, 0], // capillary (0,224,224) on pixels 1 (over the villus) and 2
    [0, 0, 0, 0.5, 0, 0], // trophoblast aggregation: exactly 0.5 is not drawn (p > 0.5)
  ]);
  const overlay = blendOverlay(IMAGE, masksFromMaps(probabilities, 3, 2));

  test('blends each class half and half with the original, truncating', () => {
    // pixel 0: ((128+10)/2, (0+200)/2, (0+255)/2) = (69, 100, 127.5 -> 127)
    assert.deepEqual([...overlay.data.subarray(0, 3)], [69, 100, 127]);
    // pixel 2: ((0+255)/2, (224+255)/2, (224+255)/2) = (127.5, 239.5, 239.5) -> (127, 239, 239)
    assert.deepEqual([...overlay.data.subarray(6, 9)], [127, 239, 239]);
    // pixel 4: ((0+100)/2, (128+101)/2, (0+102)/2) = (50, 114.5 -> 114, 51)
    assert.deepEqual([...overlay.data.subarray(12, 15)], [50, 114, 51]);
  });

  test('a later class replaces an earlier one where they overlap (blended with the original, not the canvas)', () => {
    // pixel 1 is black: capillary alone gives (0, 112, 112); villus then capillary over the canvas would give (32, 112, 112).
    assert.deepEqual([...overlay.data.subarray(3, 6)], [0, 112, 112]);
  });

  test('pixels with no class above 0.5 keep the original', () => {
    assert.deepEqual([...overlay.data.subarray(9, 12)], [7, 8, 9]);
    assert.deepEqual([...overlay.data.subarray(15, 18)], [50, 60, 70]);
    assert.deepEqual([...IMAGE.data.subarray(0, 3)], [10, 200, 255], 'the input image is not modified');
  });
});

describe('masksFromMaps', () => {
  test('resizes bilinearly (half-pixel centres) before thresholding', () => {
    // 2 -> 4 columns samples the source at x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1):
    // 0.3, 0.75·0.3 + 0.25·0.9 = 0.45, 0.25·0.3 + 0.75·0.9 = 0.75, 0.9.
    const small = fromTypedArray(new Float32Array([0.3, 0.9, 0, 0, 0, 0, 0, 0]), [1, 4, 1, 2]);
    const { masks } = masksFromMaps(small, 4, 1);
    assert.deepEqual([...(masks[0] as Uint8Array)], [0, 0, 1, 1]);
    assert.equal(masks.length, 4);
  });

  test('logits go through σ before the resize, as the reference does', () => {
    // Logits (-1, 6): at column 1 σ-then-resize gives 0.75·σ(-1) + 0.25·σ(6) = 0.451 (not drawn), while
    // resizing logits first would give 0.75·(-1) + 0.25·6 = 0.75 > 0 (drawn).
    const logits = fromTypedArray(new Float32Array([-1, 6, 0, 0, 0, 0, 0, 0]), [4, 1, 2]);
    assert.deepEqual([...(masksFromMaps(logits, 4, 1, { logits: true }).masks[0] as Uint8Array)], [0, 0, 1, 1]);
  });

  test('rejects maps that are not [C,H,W] or [1,C,H,W]', () => {
    assert.throws(() => masksFromMaps(fromTypedArray(new Float32Array(8), [2, 1, 2, 2]), 2, 2), /expected \[C,H,W\]/);
  });
});

test('imageFromTensor truncates image·255 as the reference uint8 cast does', () => {
  // 0.999·255 = 254.745 -> 254; 1.2 is clamped to 255; -0.1 to 0.
  const chw = fromTypedArray(new Float32Array([0.999, 0.5, 0, 1.2, 1, -0.1]), [3, 1, 2]);
  const img = imageFromTensor(chw);
  assert.deepEqual([img.width, img.height], [2, 1]);
  assert.deepEqual([...img.data], [254, 0, 255, 127, 255, 0]);
});

test('referenceStem cuts the file name at its first dot', () => {
  assert.equal(referenceStem('/data/x/case_12.tile.jpg'), 'case_12');
  assert.equal(referenceStem('noext'), 'noext');
});

test('writeReferenceOverlay writes <visDir>/<stem>_iter0.jpg at the image size', async () => {
  // A flat grey 64x64 image with the villus on the left half: (128+100)/2, 100/2, 100/2 = (114, 50, 50).
  const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(100) };
  const villus = new Float32Array(4 * 32 * 32);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 16; x++) villus[y * 32 + x] = 4; // logits at half size
  const visDir = join(dir, 'result_dir', 'vis');
  const path = await writeReferenceOverlay({ visDir, stem: 'case', image, maps: fromTypedArray(villus, [4, 32, 32]), logits: true });
  assert.equal(path, join(visDir, 'case_iter0.jpg'));
  assert.deepEqual(readdirSync(visDir), ['case_iter0.jpg'], 'no temporary file is left behind');
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.format, info.width, info.height, info.channels], ['raw', 64, 64, 3]);
  const at = (x: number, y: number) => [...data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
  const near = (got: number[], want: number[]) => got.every((v, k) => Math.abs(v - (want[k] as number)) <= 4);
  assert.ok(near(at(10, 30), [114, 50, 50]), `villus half: ${at(10, 30)}`);
  assert.ok(near(at(50, 30), [100, 100, 100]), `plain half: ${at(50, 30)}`);
});
