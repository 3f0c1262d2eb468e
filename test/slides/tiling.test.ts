// Tiled inference against known truth: a fixed random conv net (receptive field 3 px, inside the margin)
// run tile by tile and blended equals the same net run on the whole image away from the image border; a
// constant predictor comes out exactly constant (no seams); a pixelwise predictor comes out as itself at
// every pixel, so no tile is misplaced; tiles left out cost zeros only where no run tile reaches.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { axisWeights, Stitcher, type TileGrid, tileGrid } from '../../src/slides/pipeline/tiling.js';
import * as torch from '../../src/torch/index.js';
import { Rng } from '../helpers/prng.js';

type Tensor = torch.Tensor;

/** A random image [3, h, w] in [0, 1] with structure at several scales. */
function randomImage(w: number, h: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const img = new Float32Array(3 * w * h);
  const blobs = Array.from({ length: 12 }, () => [rng.next() * w, rng.next() * h, 4 + rng.next() * 20, rng.next()]);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = 0.2 * rng.next();
        for (const [bx, by, r, a] of blobs) if ((x - bx!) ** 2 + (y - by!) ** 2 < r! ** 2) v += a! * (0.5 + 0.5 * c);
        img[(c * h + y) * w + x] = Math.min(1, v);
      }
    }
  }
  return img;
}

/** Tiles [3, h, w] through `predict` on `grid` (white beyond the image), stitched into C planes [C, h, w]. */
function tileAndStitch(
  image: Float32Array,
  grid: TileGrid,
  channels: number,
  predict: (batch: Tensor) => Tensor,
  runTile: (k: number, j: number) => boolean = () => true,
): Float32Array {
  const { width: w, height: h, tile: t } = grid;
  const out = new Float32Array(channels * w * h);
  const written = new Uint8Array(w * h);
  const stitcher = new Stitcher(grid, channels, (x, y, cols, rows, p) => {
    for (let c = 0; c < channels; c++) {
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < cols; i++) {
          out[(c * h + y + r) * w + x + i] = p[(c * rows + r) * cols + i]!;
          if (c === 0) written[(y + r) * w + x + i]! += 1;
        }
      }
    }
  });
  grid.ys.forEach((y0, k) => {
    stitcher.startRow(k);
    grid.xs.forEach((x0, j) => {
      if (!runTile(k, j)) return;
      const tile = new Float32Array(3 * t * t).fill(1);
      for (let c = 0; c < 3; c++) {
        for (let r = 0; r < t && y0 + r < h; r++) {
          for (let u = 0; u < t && x0 + u < w; u++) tile[(c * t + r) * t + u] = image[(c * h + y0 + r) * w + x0 + u]!;
        }
      }
      const probs = torch.tidy(() => predict(torch.fromTypedArray(tile, [1, 3, t, t])).toTypedArray() as Float32Array);
      stitcher.addTile(j, probs);
    });
    stitcher.endRow();
  });
  assert.ok(
    written.every((n) => n === 1),
    'every pixel is emitted exactly once',
  );
  return out;
}

/** A fixed random conv net: three 3x3 convs (receptive radius 3), sigmoid: translation-equivariant. */
function convNet(channels: number): { predict: (x: Tensor) => Tensor; dispose: () => void } {
  torch.manual_seed(7);
  const { nn } = torch;
  const net = new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(8, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(8, channels, 3, { padding: 1 }),
  );
  return { predict: (x) => torch.no_grad(() => torch.tidy(() => net.forward(x).sigmoid())), dispose: () => net.dispose() };
}

describe('tiling', () => {
  test('grid: regular stride, the last tile reaching past the edge; bad settings are refused', () => {
    const g = tileGrid(1000, 300, 256, 64, 16);
    assert.equal(g.stride, 192);
    assert.deepEqual(g.xs, [0, 192, 384, 576, 768]);
    assert.deepEqual(g.ys, [0, 192]);
    assert.deepEqual(tileGrid(100, 50, 256, 64, 16).xs, [0]);
    assert.throws(() => tileGrid(100, 100, 64, 40, 4), /overlap 40 must be between 0 and half the tile/);
    assert.throws(() => tileGrid(100, 100, 64, 16, 8), /margin 8 must leave a ramp/);
  });

  test('weights: zero margin, complementary raised-cosine ramps summing to 1, no taper at the image border', () => {
    const g = tileGrid(1000, 1000, 64, 24, 4);
    const n = g.xs.length;
    const w = g.xs.map((_, j) => axisWeights(g, j, n));
    assert.equal(w[0]![0], 1, 'first tile: no taper at the image border');
    assert.equal(w[1]![3], 0, 'inner edge: zero margin');
    assert.equal(w[1]![g.tile - 4], 0);
    assert.equal(w[1]![30], 1, 'centre');
    for (let x = 0; x < g.xs[n - 1]! + g.tile; x++) {
      let sum = 0;
      g.xs.forEach((x0, j) => {
        if (x >= x0 && x < x0 + g.tile) sum += w[j]![x - x0]!;
      });
      assert.ok(Math.abs(sum - 1) < 1e-6, `weights sum to ${sum} at x = ${x}`);
    }
  });

  test('a constant predictor gives exactly that constant everywhere: no seams', () => {
    const grid = tileGrid(300, 211, 64, 24, 4);
    const values = [0.3, 0.7];
    const out = tileAndStitch(new Float32Array(3 * 300 * 211), grid, 2, (x) =>
      torch.cat(
        values.map((v) => torch.full([x.shape[0]!, 1, 64, 64], v)),
        1,
      ),
    );
    const n = 300 * 211;
    for (let c = 0; c < 2; c++) {
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out[c * n + i]! - values[c]!));
      assert.ok(worst < 1e-6, `channel ${c}: off by ${worst}`);
    }
  });

  test('a pixelwise predictor comes back as itself at every pixel: nothing misplaced', () => {
    const [w, h] = [333, 190];
    const image = randomImage(w, h, 3);
    const out = tileAndStitch(image, tileGrid(w, h, 64, 24, 4), 3, (x) => x.clone());
    let worst = 0;
    for (let i = 0; i < image.length; i++) worst = Math.max(worst, Math.abs(out[i]! - image[i]!));
    assert.ok(worst < 1e-6, `off by ${worst}`);
  });

  test('tiled output equals whole-image output away from the border (conv net, receptive field inside the margin)', () => {
    const [w, h] = [301, 257];
    const image = randomImage(w, h, 11);
    const { predict, dispose } = convNet(4);
    try {
      const tiled = tileAndStitch(image, tileGrid(w, h, 64, 24, 4), 4, predict);
      const whole = torch.tidy(() => predict(torch.fromTypedArray(image, [1, 3, h, w])).toTypedArray() as Float32Array);
      const border = 3;
      let worst = 0;
      let compared = 0;
      for (let c = 0; c < 4; c++) {
        for (let y = border; y < h - border; y++) {
          for (let x = border; x < w - border; x++) {
            const i = (c * h + y) * w + x;
            worst = Math.max(worst, Math.abs(tiled[i]! - whole[i]!));
            compared++;
          }
        }
      }
      assert.ok(compared > 0.9 * 4 * w * h);
      const tolerance = 1e-5;
      assert.ok(worst < tolerance, `tiled and whole differ by ${worst}`);
      // The check can fail: without the margin the tiles' zero-padded edges leak into the blend, if faintly.
      const leaky = tileAndStitch(image, tileGrid(w, h, 64, 24, 0), 4, predict);
      let leak = 0;
      for (let i = 0; i < leaky.length; i++) leak = Math.max(leak, Math.abs(leaky[i]! - tiled[i]!));
      assert.ok(leak > 10 * tolerance, `with no margin the edge effects must show (${leak})`);
    } finally {
      dispose();
    }
  });

  test('tiles left out contribute nothing; pixels no run tile reaches are 0', () => {
    const [w, h] = [200, 150];
    const grid = tileGrid(w, h, 64, 24, 4);
    const skip = (k: number, j: number) => !(k === 1 && j === 2);
    const out = tileAndStitch(new Float32Array(3 * w * h), grid, 1, (x) => torch.full([x.shape[0]!, 1, 64, 64], 0.5), skip);
    const [x0, y0] = [grid.xs[2]!, grid.ys[1]!];
    // The centre of the skipped tile lies outside every other tile's non-zero weights.
    assert.equal(out[(y0 + 32) * w + x0 + 32], 0);
    // Pixels reached by any run tile keep the exact value, however few weights reach them.
    let nonzero = 0;
    for (const v of out) {
      if (v !== 0) {
        nonzero++;
        assert.ok(Math.abs(v - 0.5) < 1e-6);
      }
    }
    assert.ok(nonzero > 0.8 * w * h);
  });

  test('tiles out of order are refused', () => {
    const grid = tileGrid(200, 100, 64, 24, 4);
    const s = new Stitcher(grid, 1, () => undefined);
    s.startRow(0);
    s.addTile(2, new Float32Array(64 * 64));
    assert.throws(() => s.addTile(1, new Float32Array(64 * 64)), /out of order/);
    assert.throws(() => s.addTile(3, new Float32Array(10)), /holds 10 values/);
  });
});
