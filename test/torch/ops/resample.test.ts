// F.interpolate (bilinear with align_corners false/true, legacy nearest) and F.pad (constant).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { assertTensor, checkOp, randn, T } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr, Pair } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0x1e5);
const F = torch.nn.functional;

const SIZES: [number[], Pair][] = [
  [
    [1, 2, 3, 4],
    [5, 7],
  ],
  [
    [1, 2, 3, 4],
    [6, 8],
  ],
  [
    [2, 1, 5, 6],
    [2, 3],
  ],
  [
    [1, 1, 4, 4],
    [4, 4],
  ],
  [
    [1, 2, 3, 4],
    [1, 1],
  ],
  [
    [1, 1, 2, 5],
    [7, 3],
  ],
];

describe('interpolate bilinear', () => {
  for (const alignCorners of [false, true]) {
    for (const [shape, size] of SIZES) {
      test(`align_corners ${alignCorners}: [${shape}] -> size [${size}]`, () => {
        checkOp({
          inputs: [randn(rng, shape)],
          run: ([x]) => F.interpolate(x as Tensor, { size, mode: 'bilinear', align_corners: alignCorners }),
          ref: ([x]) => R.bilinear(x as Arr, size, alignCorners),
        });
      });
    }
    for (const sf of [2, 1.5, 1.7, 0.5] as const) {
      test(`align_corners ${alignCorners}: [1,2,5,4] scale_factor ${sf} (output floor(in * sf))`, () => {
        const out: Pair = [Math.floor(5 * sf), Math.floor(4 * sf)];
        checkOp({
          inputs: [randn(rng, [1, 2, 5, 4])],
          run: ([x]) => F.interpolate(x as Tensor, { scale_factor: sf, mode: 'bilinear', align_corners: alignCorners }),
          // PyTorch: with a scale_factor (recompute_scale_factor unset) the source index uses 1/scale_factor, not in/out
          ref: ([x]) => R.bilinear(x as Arr, out, alignCorners, [sf, sf]),
        });
      });
    }
  }

  test('align_corners false is the half-pixel rule clamped at 0: upsampling [0, 1] by 2 gives [0, 0.25, 0.75, 1]', () => {
    torch.tidy(() => {
      const x = T([1, 1, 1, 2], [0, 1]);
      assertTensor(F.interpolate(x, { size: [1, 4], mode: 'bilinear', align_corners: false }), [1, 1, 1, 4], [0, 0.25, 0.75, 1], 1e-7);
      assertTensor(F.interpolate(x, { size: [1, 4], mode: 'bilinear', align_corners: true }), [1, 1, 1, 4], [0, 1 / 3, 2 / 3, 1], 1e-7);
    });
  });

  test('the default mode is nearest; align_corners with nearest and size+scale_factor both throw', () => {
    torch.tidy(() => {
      const x = T([1, 1, 1, 2], [3, 4]);
      assertTensor(F.interpolate(x, { size: [1, 4] }), [1, 1, 1, 4], [3, 3, 4, 4], 0);
      assert.throws(() => F.interpolate(x, { size: [2, 2], mode: 'nearest', align_corners: true }), /align_corners/);
      assert.throws(() => F.interpolate(x, { size: [2, 2], scale_factor: 2 }), /exactly one/);
      assert.throws(() => F.interpolate(x, {}), /exactly one/);
    });
  });
});

describe('interpolate nearest (legacy: src = floor(dst * in/out))', () => {
  for (const [shape, size] of SIZES) {
    test(`[${shape}] -> size [${size}]`, () => {
      checkOp({
        inputs: [randn(rng, shape)],
        run: ([x]) => F.interpolate(x as Tensor, { size, mode: 'nearest' }),
        ref: ([x]) => R.nearest(x as Arr, size),
      });
    });
  }
  for (const sf of [2, 3, 1.5, 0.5] as const) {
    test(`[1,2,4,6] scale_factor ${sf}`, () => {
      checkOp({
        inputs: [randn(rng, [1, 2, 4, 6])],
        run: ([x]) => F.interpolate(x as Tensor, { scale_factor: sf, mode: 'nearest' }),
        ref: ([x]) => R.nearest(x as Arr, [Math.floor(4 * sf), Math.floor(6 * sf)], [sf, sf]),
      });
    });
  }
  test('scale_factor 1.7 on [1,1,5,7]: the source index uses 1/scale_factor (not in/out = 5/8)', () => {
    checkOp({
      inputs: [randn(rng, [1, 1, 5, 7])],
      run: ([x]) => F.interpolate(x as Tensor, { scale_factor: 1.7, mode: 'nearest' }),
      ref: ([x]) => R.nearest(x as Arr, [8, 11], [1.7, 1.7]),
    });
  });
  test('non-square scale_factor [2, 1.5]', () => {
    checkOp({
      inputs: [randn(rng, [1, 1, 3, 4])],
      run: ([x]) => F.interpolate(x as Tensor, { scale_factor: [2, 1.5], mode: 'nearest' }),
      ref: ([x]) => R.nearest(x as Arr, [6, 6], [2, 1.5]),
    });
  });
});

describe('F.pad constant', () => {
  const PADS: [number[], number[], number][] = [
    [[1, 2, 3, 4], [1, 2], 0],
    [[1, 2, 3, 4], [1, 1, 2, 0], 0.5],
    [[2, 3, 4], [1, 0, 0, 1, 1, 1], -2],
    [[1, 2, 4, 5], [-1, 1, 0, -2], 0],
    [[2, 3], [0, 0, 2, 1], 3],
  ];
  for (const [shape, pads, value] of PADS) {
    test(`[${shape}] pads [${pads}] value ${value}`, () => {
      checkOp({ inputs: [randn(rng, shape)], run: ([x]) => F.pad(x as Tensor, pads, value), ref: ([x]) => R.pad(x as Arr, pads, value) });
    });
  }
});
