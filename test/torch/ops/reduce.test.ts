// Reductions over dims (keepdim, negative dims, all-dims) vs plain-TS references, with gradients.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { assertTensor, checkOp, type InputSpec, input, ints, makeTensor, randn } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0x5ed);
const SHAPE = [2, 3, 4];
const DIMS: (number[] | undefined)[] = [undefined, [0], [1], [2], [-1], [0, 2], [-1, -3], [0, 1, 2]];
const fmt = (d: number[] | undefined): string => (d === undefined ? 'all dims' : `dims [${d.join(',')}]`);

/** Distinct values, so max/min/argmax have one answer and their gradients are defined. */
const distinct = (shape: number[]): InputSpec => input(shape, rng.distinct(R.numel(shape), 0.15));

describe('sum and mean', () => {
  for (const dims of DIMS) {
    for (const keepdim of [false, true]) {
      if (dims === undefined && keepdim) continue;
      test(`sum over ${fmt(dims)}, keepdim ${keepdim}`, () => {
        checkOp({
          inputs: [randn(rng, SHAPE)],
          run: ([x]) => (x as Tensor).sum(dims, keepdim),
          ref: ([x]) => R.reduce(x as Arr, dims, keepdim, R.sumOf),
        });
      });
      test(`mean over ${fmt(dims)}, keepdim ${keepdim}`, () => {
        checkOp({
          inputs: [randn(rng, SHAPE)],
          run: ([x]) => (x as Tensor).mean(dims, keepdim),
          ref: ([x]) => R.reduce(x as Arr, dims, keepdim, R.meanOf),
        });
      });
    }
  }

  test('integer sum promotes to int64 (as PyTorch); sum(dtype) accumulates in that dtype', () => {
    torch.tidy(() => {
      const x = makeTensor(ints([2, 3], [1, 2, 3, 4, 5, 6], 'int32'));
      assertTensor(x.sum(), [], [21], 0, 'int64');
      assertTensor(x.sum(1), [2], [6, 15], 0, 'int64');
      assertTensor(x.sum(0, false, 'float64'), [3], [5, 7, 9], 0, 'float64');
      assertTensor(makeTensor(ints([3], [1, 0, 1], 'bool')).sum(), [], [2], 0, 'int64');
    });
  });
});

describe('var and std (correction, keepdim)', () => {
  for (const correction of [0, 1, 2]) {
    for (const dims of [undefined, [1], [0, 2], [-1]] as (number[] | undefined)[]) {
      test(`var over ${fmt(dims)}, correction ${correction}`, () => {
        checkOp({
          inputs: [randn(rng, SHAPE)],
          run: ([x]) => (x as Tensor).var(dims, { correction }),
          ref: ([x]) => R.reduce(x as Arr, dims, false, (v) => R.varOf(v, correction)),
        });
      });
    }
  }
  test('var keepdim; default correction is 1 (Bessel)', () => {
    checkOp({
      inputs: [randn(rng, SHAPE)],
      run: ([x]) => (x as Tensor).var([0, 2], { keepdim: true }),
      ref: ([x]) => R.reduce(x as Arr, [0, 2], true, (v) => R.varOf(v, 1)),
    });
  });
  test('std over dim 2 (correction 1) and all dims (correction 0)', () => {
    checkOp({
      inputs: [randn(rng, SHAPE)],
      run: ([x]) => (x as Tensor).std(2),
      ref: ([x]) => R.reduce(x as Arr, [2], false, (v) => Math.sqrt(R.varOf(v, 1))),
    });
    checkOp({
      inputs: [randn(rng, SHAPE)],
      run: ([x]) => (x as Tensor).std(undefined, { correction: 0, keepdim: true }),
      ref: ([x]) => R.reduce(x as Arr, undefined, true, (v) => Math.sqrt(R.varOf(v, 0))),
    });
  });
});

describe('max, min, argmax, argmin', () => {
  test('max() and min() over all elements', () => {
    checkOp({ inputs: [distinct(SHAPE)], run: ([x]) => (x as Tensor).max(), ref: ([x]) => R.scalar(Math.max(...(x as Arr).data)) });
    checkOp({ inputs: [distinct(SHAPE)], run: ([x]) => (x as Tensor).min(), ref: ([x]) => R.scalar(Math.min(...(x as Arr).data)) });
  });

  for (const dim of [0, 1, 2, -1]) {
    for (const keepdim of [false, true]) {
      test(`max(dim ${dim}, keepdim ${keepdim}) -> values and int64 indices`, () => {
        checkOp({
          inputs: [distinct(SHAPE)],
          run: ([x]) => {
            const r = (x as Tensor).max(dim, keepdim);
            return [r.values, r.indices];
          },
          ref: ([x]) => [R.reduce(x as Arr, [dim], keepdim, (v) => Math.max(...v)), R.reduce(x as Arr, [dim], keepdim, R.argmaxOf)],
          outDtype: ['float32', 'int64'],
        });
      });
      test(`min(dim ${dim}, keepdim ${keepdim}) -> values and int64 indices`, () => {
        checkOp({
          inputs: [distinct(SHAPE)],
          run: ([x]) => {
            const r = (x as Tensor).min(dim, keepdim);
            return [r.values, r.indices];
          },
          ref: ([x]) => [R.reduce(x as Arr, [dim], keepdim, (v) => Math.min(...v)), R.reduce(x as Arr, [dim], keepdim, R.argminOf)],
          outDtype: ['float32', 'int64'],
        });
      });
      test(`argmax / argmin (dim ${dim}, keepdim ${keepdim})`, () => {
        checkOp({
          inputs: [distinct(SHAPE)],
          run: ([x]) => [(x as Tensor).argmax(dim, keepdim), (x as Tensor).argmin(dim, keepdim)],
          ref: ([x]) => [R.reduce(x as Arr, [dim], keepdim, R.argmaxOf), R.reduce(x as Arr, [dim], keepdim, R.argminOf)],
          outDtype: ['int64', 'int64'],
        });
      });
    }
  }

  test('argmax / argmin without a dim give the flat index', () => {
    checkOp({
      inputs: [distinct(SHAPE)],
      run: ([x]) => [(x as Tensor).argmax(), (x as Tensor).argmin()],
      ref: ([x]) => [R.scalar(R.argmaxOf((x as Arr).data)), R.scalar(R.argminOf((x as Arr).data))],
      outDtype: ['int64', 'int64'],
    });
  });

  test('max over a dim of int64 data', () => {
    checkOp({
      inputs: [ints([3, 4], rng.perm(12))],
      run: ([x]) => {
        const r = (x as Tensor).max(1);
        return [r.values, r.indices];
      },
      ref: ([x]) => [R.reduce(x as Arr, [1], false, (v) => Math.max(...v)), R.reduce(x as Arr, [1], false, R.argmaxOf)],
      outDtype: ['int64', 'int64'],
    });
  });
});

describe('prod, cumsum, norm, any, all', () => {
  test('prod over all elements', () => {
    const data = rng.uniform(12, 0.5, 1.5).map((v, i) => (i % 3 === 0 ? -v : v));
    checkOp({
      inputs: [input([3, 4], data)],
      run: ([x]) => (x as Tensor).prod(),
      ref: ([x]) => R.scalar((x as Arr).data.reduce((p, v) => p * v, 1)),
    });
  });

  for (const dim of [0, 1, 2, -1]) {
    test(`cumsum(dim ${dim})`, () => {
      checkOp({ inputs: [randn(rng, SHAPE)], run: ([x]) => (x as Tensor).cumsum(dim), ref: ([x]) => R.cumsum(x as Arr, dim) });
    });
  }

  const pnorm = (p: number) => (v: number[]) => R.sumOf(v.map((x) => Math.abs(x) ** p)) ** (1 / p);
  test('norm: p=2 over all, p=2 over dim 1, p=1 over [0,2] keepdim, p=3 over dim -1', () => {
    const away = (): InputSpec => input(SHAPE, rng.awayFrom(24, -2, 2, [0], 0.05));
    checkOp({
      inputs: [randn(rng, SHAPE)],
      run: ([x]) => (x as Tensor).norm(),
      ref: ([x]) => R.reduce(x as Arr, undefined, false, pnorm(2)),
    });
    checkOp({
      inputs: [randn(rng, SHAPE)],
      run: ([x]) => (x as Tensor).norm(2, 1),
      ref: ([x]) => R.reduce(x as Arr, [1], false, pnorm(2)),
    });
    checkOp({
      inputs: [away()],
      run: ([x]) => (x as Tensor).norm(1, [0, 2], true),
      ref: ([x]) => R.reduce(x as Arr, [0, 2], true, pnorm(1)),
    });
    checkOp({ inputs: [away()], run: ([x]) => (x as Tensor).norm(3, -1), ref: ([x]) => R.reduce(x as Arr, [-1], false, pnorm(3)) });
  });

  test('any / all', () => {
    torch.tidy(() => {
      const b = (v: number[]): Tensor => makeTensor(ints([v.length], v, 'bool'));
      assertTensor(b([0, 1, 0]).any(), [], [1], 0, 'bool');
      assertTensor(b([0, 0, 0]).any(), [], [0], 0, 'bool');
      assertTensor(b([1, 1, 0]).all(), [], [0], 0, 'bool');
      assertTensor(b([1, 1, 1]).all(), [], [1], 0, 'bool');
    });
  });
});

test('reduction over an out-of-range dim throws an Error naming the op', () => {
  torch.tidy(() => {
    const x = torch.zeros([2, 3]);
    assert.throws(() => x.sum(2), /sum.*(out of range|Dimension)/is);
    assert.throws(() => x.max(5), /max.*(out of range|Dimension)/is);
  });
});
