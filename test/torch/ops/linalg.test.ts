// matmul (2-D, 1-D operands, batched with broadcasting), mm, bmm, linear, einsum, transposes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { checkOp, randn } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0x11a);
const F = torch.nn.functional;

const MATMUL_SHAPES: [number[], number[], number[]][] = [
  [
    [3, 4],
    [4, 5],
    [3, 5],
  ],
  [
    [1, 4],
    [4, 1],
    [1, 1],
  ],
  [[4], [4, 5], [5]],
  [[3, 4], [4], [3]],
  [[4], [4], []],
  [[2, 3, 4], [4], [2, 3]],
  [[4], [2, 4, 3], [2, 3]],
  [
    [2, 3, 4],
    [2, 4, 5],
    [2, 3, 5],
  ],
  [
    [2, 3, 4],
    [4, 5],
    [2, 3, 5],
  ],
  [
    [3, 4],
    [2, 4, 5],
    [2, 3, 5],
  ],
  [
    [2, 1, 3, 4],
    [3, 4, 5],
    [2, 3, 3, 5],
  ],
  [
    [1, 2, 3, 4],
    [2, 1, 4, 2],
    [2, 2, 3, 2],
  ],
];

describe('matmul', () => {
  for (const [sa, sb, so] of MATMUL_SHAPES) {
    test(`[${sa}] @ [${sb}] -> [${so}]`, () => {
      checkOp({
        inputs: [randn(rng, sa), randn(rng, sb)],
        run: ([a, b]) => torch.matmul(a as Tensor, b as Tensor),
        ref: ([a, b]) => {
          const r = R.matmul(a as Arr, b as Arr);
          assert.deepEqual(r.shape, so);
          return r;
        },
      });
    });
  }

  test('Tensor.matmul agrees with torch.matmul on a non-contiguous (transposed) operand', () => {
    checkOp({
      inputs: [randn(rng, [4, 3]), randn(rng, [4, 5])],
      run: ([a, b]) => (a as Tensor).t().matmul(b as Tensor),
      ref: ([a, b]) => R.matmul(R.transpose(a as Arr, 0, 1), b as Arr),
    });
  });
});

describe('mm, bmm, linear, einsum', () => {
  test('mm [3,4] @ [4,2]', () => {
    checkOp({
      inputs: [randn(rng, [3, 4]), randn(rng, [4, 2])],
      run: ([a, b]) => (a as Tensor).mm(b as Tensor),
      ref: ([a, b]) => R.matmul(a as Arr, b as Arr),
    });
  });

  test('bmm [3,2,4] @ [3,4,5], also via torch.bmm with a transposed operand', () => {
    checkOp({
      inputs: [randn(rng, [3, 2, 4]), randn(rng, [3, 4, 5])],
      run: ([a, b]) => (a as Tensor).bmm(b as Tensor),
      ref: ([a, b]) => R.matmul(a as Arr, b as Arr),
    });
    checkOp({
      inputs: [randn(rng, [3, 2, 4]), randn(rng, [3, 5, 4])],
      run: ([a, b]) => torch.bmm(a as Tensor, (b as Tensor).transpose(1, 2)),
      ref: ([a, b]) => R.matmul(a as Arr, R.transpose(b as Arr, 1, 2)),
    });
  });

  test('F.linear with and without bias on [2,3,4] input', () => {
    checkOp({
      inputs: [randn(rng, [2, 3, 4]), randn(rng, [5, 4]), randn(rng, [5])],
      run: ([x, w, b]) => F.linear(x as Tensor, w as Tensor, b as Tensor),
      ref: ([x, w, b]) => R.linear(x as Arr, w as Arr, b as Arr),
    });
    checkOp({
      inputs: [randn(rng, [3, 4]), randn(rng, [2, 4])],
      run: ([x, w]) => F.linear(x as Tensor, w as Tensor),
      ref: ([x, w]) => R.linear(x as Arr, w as Arr),
    });
  });

  test("einsum 'bij,bjk->bik' and 'ij->ji'", () => {
    checkOp({
      inputs: [randn(rng, [2, 3, 4]), randn(rng, [2, 4, 2])],
      run: ([a, b]) => torch.einsum('bij,bjk->bik', [a as Tensor, b as Tensor]),
      ref: ([a, b]) => R.matmul(a as Arr, b as Arr),
    });
    checkOp({
      inputs: [randn(rng, [3, 4])],
      run: ([a]) => torch.einsum('ij->ji', [a as Tensor]),
      ref: ([a]) => R.transpose(a as Arr, 0, 1),
    });
  });
});

test('matmul shape mismatch throws an Error naming the op', () => {
  torch.tidy(() => {
    assert.throws(
      () => torch.ones([2, 3]).matmul(torch.ones([4, 5])),
      (e: Error) => e instanceof Error && /matmul|mm/.test(e.message) && /2x3|shapes/.test(e.message),
    );
    assert.throws(
      () => torch.ones([2, 3, 4]).bmm(torch.ones([3, 4, 5])),
      (e: Error) => /bmm/.test(e.message),
    );
  });
});
