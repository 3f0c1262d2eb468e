// conv2d, conv_transpose2d, pooling, unfold and pixel_shuffle vs naive loop references.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { checkOp, type InputSpec, input, randn } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr, Pair } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0xc0);
const F = torch.nn.functional;

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias: boolean;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  outputPadding?: Pair;
}

const CONV: ConvCase[] = [
  { name: 'plain 3x3 with bias', x: [2, 3, 5, 5], w: [4, 3, 3, 3], bias: true },
  { name: 'no bias, 1x1 kernel', x: [1, 3, 4, 3], w: [2, 3, 1, 1], bias: false },
  { name: 'stride 2, padding 1', x: [2, 2, 6, 5], w: [3, 2, 3, 3], bias: true, stride: [2, 2], padding: [1, 1] },
  { name: 'dilation 2, padding 2', x: [1, 2, 6, 6], w: [2, 2, 3, 3], bias: true, dilation: [2, 2], padding: [2, 2] },
  {
    name: 'non-square: stride [2,1], padding [1,0], dilation [1,2], kernel 3x2',
    x: [1, 2, 6, 7],
    w: [3, 2, 3, 2],
    bias: true,
    stride: [2, 1],
    padding: [1, 0],
    dilation: [1, 2],
  },
  { name: 'groups 2', x: [1, 4, 5, 5], w: [6, 2, 3, 3], bias: true, groups: 2, padding: [1, 1] },
  {
    name: 'depthwise (groups = channels), stride 2',
    x: [2, 3, 5, 4],
    w: [3, 1, 3, 3],
    bias: true,
    groups: 3,
    stride: [2, 2],
    padding: [1, 1],
  },
];

describe('F.conv2d', () => {
  for (const c of CONV) {
    test(c.name, () => {
      const inputs: InputSpec[] = [randn(rng, c.x), randn(rng, c.w, { std: 0.5 })];
      if (c.bias) inputs.push(randn(rng, [c.w[0] as number]));
      const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
      checkOp({
        inputs,
        run: ([x, w, b]) =>
          F.conv2d(x as Tensor, w as Tensor, b, {
            stride: c.stride ?? 1,
            padding: c.padding ?? 0,
            dilation: c.dilation ?? 1,
            groups: c.groups ?? 1,
          }),
        ref: ([x, w, b]) => R.conv2d(x as Arr, w as Arr, b, opts),
      });
    });
  }

  test('scalar stride/padding/dilation mean the same value for both dims', () => {
    checkOp({
      inputs: [randn(rng, [1, 2, 7, 6]), randn(rng, [2, 2, 3, 3])],
      run: ([x, w]) => F.conv2d(x as Tensor, w as Tensor, undefined, { stride: 2, padding: 1, dilation: 2 }),
      ref: ([x, w]) => R.conv2d(x as Arr, w as Arr, undefined, { stride: [2, 2], padding: [1, 1], dilation: [2, 2] }),
    });
  });

  test('channel mismatch throws an Error naming conv2d', () => {
    torch.tidy(() => {
      assert.throws(
        () => F.conv2d(torch.zeros([1, 3, 5, 5]), torch.zeros([2, 4, 3, 3])),
        (e: Error) => e instanceof Error && /conv2d/.test(e.message),
      );
    });
  });
});

const CONVT: ConvCase[] = [
  { name: 'plain 3x3 with bias', x: [2, 3, 3, 3], w: [3, 2, 3, 3], bias: true },
  {
    name: 'stride 2, padding 1, output_padding 1',
    x: [1, 2, 3, 4],
    w: [2, 3, 3, 3],
    bias: true,
    stride: [2, 2],
    padding: [1, 1],
    outputPadding: [1, 1],
  },
  {
    name: 'groups 2, stride 2, padding 1, output_padding 1',
    x: [1, 4, 3, 3],
    w: [4, 3, 3, 3],
    bias: true,
    groups: 2,
    stride: [2, 2],
    padding: [1, 1],
    outputPadding: [1, 1],
  },
  {
    name: 'non-square: stride [2,1], dilation [1,2], kernel 2x3, output_padding [1,0], no bias',
    x: [2, 2, 3, 3],
    w: [2, 2, 2, 3],
    bias: false,
    stride: [2, 1],
    dilation: [1, 2],
    outputPadding: [1, 0],
  },
  {
    name: 'stride 3, padding [0,1], output_padding 2',
    x: [1, 1, 2, 3],
    w: [1, 2, 3, 3],
    bias: true,
    stride: [3, 3],
    padding: [0, 1],
    outputPadding: [2, 2],
  },
];

describe('F.conv_transpose2d', () => {
  for (const c of CONVT) {
    test(c.name, () => {
      const groups = c.groups ?? 1;
      const inputs: InputSpec[] = [randn(rng, c.x), randn(rng, c.w, { std: 0.5 })];
      if (c.bias) inputs.push(randn(rng, [(c.w[1] as number) * groups]));
      checkOp({
        inputs,
        run: ([x, w, b]) =>
          F.conv_transpose2d(x as Tensor, w as Tensor, b, {
            stride: c.stride ?? 1,
            padding: c.padding ?? 0,
            output_padding: c.outputPadding ?? 0,
            dilation: c.dilation ?? 1,
            groups,
          }),
        ref: ([x, w, b]) =>
          R.convTranspose2d(x as Arr, w as Arr, b, {
            stride: c.stride,
            padding: c.padding,
            dilation: c.dilation,
            groups,
            outputPadding: c.outputPadding,
          }),
      });
    });
  }

  test('conv_transpose2d is the adjoint of conv2d: <conv(x), y> = <x, convT(y)>', () => {
    torch.tidy(() => {
      const x = R.arr([1, 2, 6, 5], rng.normal(60));
      const w = R.arr([3, 2, 3, 3], rng.normal(54));
      const o = { stride: [2, 2] as Pair, padding: [1, 1] as Pair };
      const y = R.arr([1, 3, 3, 3], rng.normal(27));
      const lhs = R.sumOf(R.conv2d(x, w, undefined, o).data.map((v, i) => v * (y.data[i] as number)));
      const back = R.convTranspose2d(y, w, undefined, { ...o, outputPadding: [1, 0] });
      assert.deepEqual(back.shape, x.shape);
      const rhs = R.sumOf(back.data.map((v, i) => v * (x.data[i] as number)));
      assert.ok(Math.abs(lhs - rhs) < 1e-9 * Math.max(1, Math.abs(lhs)), 'the two references agree with each other');
    });
  });
});

/** Values pairwise apart by >= 0.075, so a window's max is unique. */
const distinct = (shape: number[]): InputSpec => input(shape, rng.distinct(R.numel(shape), 0.1));

interface PoolCase {
  name: string;
  x: number[];
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

const MAXPOOL: PoolCase[] = [
  { name: 'kernel 2 (stride = kernel)', x: [2, 2, 4, 6], kernel: [2, 2] },
  { name: 'kernel 3, stride 2, padding 1', x: [1, 2, 5, 5], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'kernel 2, stride 1, dilation 2', x: [1, 1, 5, 6], kernel: [2, 2], stride: [1, 1], dilation: [2, 2] },
  { name: 'non-square kernel [2,3], stride [1,2]', x: [1, 2, 4, 7], kernel: [2, 3], stride: [1, 2] },
  { name: 'ceil_mode: kernel 2 on odd sizes', x: [1, 2, 5, 7], kernel: [2, 2], ceilMode: true },
  {
    name: 'ceil_mode with padding: kernel 3, stride 2, padding 1',
    x: [1, 1, 6, 6],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    ceilMode: true,
  },
];

describe('F.max_pool2d', () => {
  for (const c of MAXPOOL) {
    test(c.name, () => {
      checkOp({
        inputs: [distinct(c.x)],
        run: ([x]) =>
          F.max_pool2d(x as Tensor, c.kernel, {
            stride: c.stride ?? c.kernel,
            padding: c.padding ?? 0,
            dilation: c.dilation ?? 1,
            ceil_mode: c.ceilMode ?? false,
          }),
        ref: ([x]) => R.maxPool2d(x as Arr, c),
      });
    });
  }
});

const AVGPOOL: PoolCase[] = [
  { name: 'kernel 2', x: [2, 2, 4, 6], kernel: [2, 2] },
  {
    name: 'kernel 3, stride 2, padding 1, count_include_pad true',
    x: [1, 2, 5, 6],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    countIncludePad: true,
  },
  {
    name: 'kernel 3, stride 2, padding 1, count_include_pad false',
    x: [1, 2, 5, 6],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    countIncludePad: false,
  },
  { name: 'non-square kernel [3,2], stride [1,2], padding [1,0]', x: [1, 1, 4, 5], kernel: [3, 2], stride: [1, 2], padding: [1, 0] },
  { name: 'ceil_mode: kernel 2 on odd sizes', x: [1, 2, 5, 5], kernel: [2, 2], ceilMode: true },
  {
    name: 'ceil_mode, padding 1, count_include_pad true',
    x: [1, 1, 6, 5],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    ceilMode: true,
    countIncludePad: true,
  },
  {
    name: 'ceil_mode, padding 1, count_include_pad false',
    x: [1, 1, 6, 5],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    ceilMode: true,
    countIncludePad: false,
  },
];

describe('F.avg_pool2d', () => {
  for (const c of AVGPOOL) {
    test(c.name, () => {
      checkOp({
        inputs: [randn(rng, c.x)],
        run: ([x]) =>
          F.avg_pool2d(x as Tensor, c.kernel, {
            stride: c.stride ?? c.kernel,
            padding: c.padding ?? 0,
            ceil_mode: c.ceilMode ?? false,
            count_include_pad: c.countIncludePad ?? true,
          }),
        ref: ([x]) => R.avgPool2d(x as Arr, c),
      });
    });
  }
});

describe('adaptive_avg_pool2d, unfold, pixel_shuffle', () => {
  for (const out of [
    [3, 2],
    [7, 5],
    [1, 1],
    [4, 3],
  ] as Pair[]) {
    test(`adaptive_avg_pool2d [1,2,7,5] -> [${out}]`, () => {
      checkOp({
        inputs: [randn(rng, [1, 2, 7, 5])],
        run: ([x]) => F.adaptive_avg_pool2d(x as Tensor, out),
        ref: ([x]) => R.adaptiveAvgPool2d(x as Arr, out),
      });
    });
  }

  test('unfold (im2col): kernel 2x3, and kernel 3 with stride 2, padding 1, dilation 1', () => {
    checkOp({ inputs: [randn(rng, [2, 2, 4, 5])], run: ([x]) => F.unfold(x as Tensor, [2, 3]), ref: ([x]) => R.unfold(x as Arr, [2, 3]) });
    checkOp({
      inputs: [randn(rng, [1, 2, 5, 5])],
      run: ([x]) => F.unfold(x as Tensor, 3, { stride: 2, padding: 1 }),
      ref: ([x]) => R.unfold(x as Arr, [3, 3], { stride: [2, 2], padding: [1, 1] }),
    });
  });

  test('pixel_shuffle r=2: [1,8,2,3] -> [1,2,4,6]', () => {
    checkOp({
      inputs: [randn(rng, [1, 8, 2, 3])],
      run: ([x]) => F.pixel_shuffle(x as Tensor, 2),
      ref: ([x]) => R.pixelShuffle(x as Arr, 2),
    });
  });
});
