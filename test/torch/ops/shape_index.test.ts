// Shape ops (reshape/view/flatten/permute/transpose/contiguous/squeeze/expand/repeat/flip/roll) and
// indexing ops (slice/narrow/select/index_select/gather/scatter/cat/stack/split/chunk/unbind/
// masked_select/embedding), forward and gradients.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { assertTensor, checkOp, ints, makeTensor, randn, T } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0x5a9e);
const F = torch.nn.functional;
const X = [2, 3, 4];

const t0 = (xs: Tensor[]): Tensor => xs[0] as Tensor;
const a0 = (xs: Arr[]): Arr => xs[0] as Arr;

describe('reshape, view, flatten, unflatten, squeeze, unsqueeze', () => {
  const cases: [string, (x: Tensor) => Tensor, (x: Arr) => Arr][] = [
    ['reshape [4,6]', (x) => x.reshape(4, 6), (x) => R.reshape(x, [4, 6])],
    ['reshape [-1, 2] (array form)', (x) => x.reshape([-1, 2]), (x) => R.reshape(x, [-1, 2])],
    ['reshape [24]', (x) => x.reshape(24), (x) => R.reshape(x, [24])],
    ['view [3, 2, 4]', (x) => x.view(3, 2, 4), (x) => R.reshape(x, [3, 2, 4])],
    ['view [-1]', (x) => x.view(-1), (x) => R.reshape(x, [24])],
    ['flatten()', (x) => x.flatten(), (x) => R.reshape(x, [24])],
    ['flatten(1)', (x) => x.flatten(1), (x) => R.reshape(x, [2, 12])],
    ['flatten(0, 1)', (x) => x.flatten(0, 1), (x) => R.reshape(x, [6, 4])],
    ['unflatten(2, [2, 2])', (x) => x.unflatten(2, [2, 2]), (x) => R.reshape(x, [2, 3, 2, 2])],
    ['unsqueeze(1)', (x) => x.unsqueeze(1), (x) => R.reshape(x, [2, 1, 3, 4])],
    ['unsqueeze(-1)', (x) => x.unsqueeze(-1), (x) => R.reshape(x, [2, 3, 4, 1])],
    ['unsqueeze then squeeze()', (x) => x.unsqueeze(0).unsqueeze(3).squeeze(), (x) => x],
    ['squeeze(dim) of a size-1 dim', (x) => x.reshape(2, 1, 12).squeeze(1), (x) => R.reshape(x, [2, 12])],
    ['squeeze(dim) of a non-1 dim is a no-op', (x) => x.squeeze(0), (x) => x],
    [
      'reshape of a transposed (non-contiguous) tensor copies in logical order',
      (x) => x.transpose(0, 2).reshape(4, 6),
      (x) => R.reshape(R.transpose(x, 0, 2), [4, 6]),
    ],
  ];
  for (const [name, run, ref] of cases) {
    test(name, () => checkOp({ inputs: [randn(rng, X)], run: (xs) => run(t0(xs)), ref: (xs) => ref(a0(xs)) }));
  }

  test('view of a non-contiguous tensor throws an Error naming view', () => {
    torch.tidy(() => {
      assert.throws(
        () => torch.zeros([2, 3]).t().view(6),
        (e: Error) => e instanceof Error && /view/.test(e.message),
      );
    });
  });

  // libtorch 1.13 throws std::runtime_error here; before Tensor.reshape/view validated the shape, this aborted the process
  test('reshape / view to an incompatible size throw an Error naming the op (not a process abort)', () => {
    torch.tidy(() => {
      const x = torch.zeros([2, 3]);
      assert.throws(() => x.reshape(4, 2), /reshape: shape '\[4, 2\]' is invalid for input of size 6/);
      assert.throws(() => x.view(-1, 4), /view: shape '\[-1, 4\]' is invalid/);
      assert.throws(() => x.reshape(-1, -1), /only one dimension can be inferred/);
      assert.throws(() => torch.zeros([0, 3]).reshape(0, -1), /reshape/);
      assert.deepEqual(torch.zeros([0, 3]).reshape(3, 0).shape, [3, 0]);
    });
  });
});

describe('permute, transpose, t, contiguous', () => {
  const cases: [string, (x: Tensor) => Tensor, (x: Arr) => Arr][] = [
    ['permute(2, 0, 1)', (x) => x.permute(2, 0, 1), (x) => R.permute(x, [2, 0, 1])],
    ['permute([1, 2, 0])', (x) => x.permute([1, 2, 0]), (x) => R.permute(x, [1, 2, 0])],
    ['permute(-1, -3, -2)', (x) => x.permute(-1, -3, -2), (x) => R.permute(x, [2, 0, 1])],
    ['transpose(0, 2)', (x) => x.transpose(0, 2), (x) => R.transpose(x, 0, 2)],
    ['transpose(-1, 1)', (x) => x.transpose(-1, 1), (x) => R.transpose(x, 2, 1)],
    ['permute then contiguous', (x) => x.permute(1, 2, 0).contiguous(), (x) => R.permute(x, [1, 2, 0])],
  ];
  for (const [name, run, ref] of cases) {
    test(name, () => checkOp({ inputs: [randn(rng, X)], run: (xs) => run(t0(xs)), ref: (xs) => ref(a0(xs)) }));
  }
  test('t() of a matrix', () => {
    checkOp({ inputs: [randn(rng, [3, 5])], run: (xs) => t0(xs).t(), ref: (xs) => R.transpose(a0(xs), 0, 1) });
  });
  test('a view shares storage with its base; contiguous() of a contiguous tensor is itself', () => {
    torch.tidy(() => {
      const x = T([2, 3], [1, 2, 3, 4, 5, 6]);
      torch.no_grad(() => x.t().select(0, 1).fill_(0));
      assertTensor(x, [2, 3], [1, 0, 3, 4, 0, 6], 0);
      const c = x.contiguous();
      assert.ok(c.is_same(x));
      assert.ok(!x.t().contiguous().is_same(x));
    });
  });
});

describe('slice, narrow, select', () => {
  const cases: [string, (x: Tensor) => Tensor, (x: Arr) => Arr][] = [
    ['slice(1, 1, 3)', (x) => x.slice(1, 1, 3), (x) => R.slice(x, 1, 1, 3)],
    ['slice(2, 0, undefined, 2) (step 2)', (x) => x.slice(2, 0, undefined, 2), (x) => R.slice(x, 2, 0, undefined, 2)],
    ['slice(-1, -3) (negative start)', (x) => x.slice(-1, -3), (x) => R.slice(x, -1, -3)],
    ['slice(0, 1, 100) (end clamped)', (x) => x.slice(0, 1, 100), (x) => R.slice(x, 0, 1, 100)],
    ['slice(2, 1, -1, 2)', (x) => x.slice(2, 1, -1, 2), (x) => R.slice(x, 2, 1, -1, 2)],
    ['narrow(2, 1, 2)', (x) => x.narrow(2, 1, 2), (x) => R.slice(x, 2, 1, 3)],
    ['narrow(0, 1, 1)', (x) => x.narrow(0, 1, 1), (x) => R.slice(x, 0, 1, 2)],
    ['select(1, 2)', (x) => x.select(1, 2), (x) => R.select(x, 1, 2)],
    ['select(-1, -1)', (x) => x.select(-1, -1), (x) => R.select(x, -1, -1)],
    ['select(0, 0) twice', (x) => x.select(0, 0).select(0, 1), (x) => R.select(R.select(x, 0, 0), 0, 1)],
  ];
  for (const [name, run, ref] of cases) {
    test(name, () => checkOp({ inputs: [randn(rng, X)], run: (xs) => run(t0(xs)), ref: (xs) => ref(a0(xs)) }));
  }
  test('select out of range throws an Error naming select', () => {
    torch.tidy(() => {
      assert.throws(
        () => torch.zeros([2, 3]).select(1, 3),
        (e: Error) => /select/.test(e.message),
      );
    });
  });
});

describe('index_select, gather, scatter, scatter_add, masked_select, embedding', () => {
  test('index_select with repeated indices (gradients accumulate)', () => {
    checkOp({
      inputs: [randn(rng, X), ints([5], [2, 0, 2, 3, 2])],
      run: ([x, i]) => (x as Tensor).index_select(2, i as Tensor),
      ref: ([x, i]) => R.indexSelect(x as Arr, 2, (i as Arr).data),
    });
    checkOp({
      inputs: [randn(rng, X), ints([3], [1, 1, 0])],
      run: ([x, i]) => (x as Tensor).index_select(0, i as Tensor),
      ref: ([x, i]) => R.indexSelect(x as Arr, 0, (i as Arr).data),
    });
  });

  for (const dim of [0, 1, 2]) {
    test(`gather along dim ${dim} (index smaller than self in other dims)`, () => {
      const shape = [2, 2, 3];
      const size = X[dim] as number;
      checkOp({
        inputs: [randn(rng, X), ints(shape, rng.ints(12, 0, size))],
        run: ([x, i]) => (x as Tensor).gather(dim, i as Tensor),
        ref: ([x, i]) => R.gather(x as Arr, dim, i as Arr),
      });
    });
  }

  // scatter with duplicate targets is nondeterministic in PyTorch: use a permutation per row
  test('scatter(src) along dim 1 with a permutation per row; gradients to self and src', () => {
    const index = [...rng.perm(4).slice(0, 3), ...rng.perm(4).slice(0, 3)];
    checkOp({
      inputs: [randn(rng, [2, 4]), ints([2, 3], index), randn(rng, [2, 3])],
      run: ([x, i, s]) => (x as Tensor).scatter(1, i as Tensor, s as Tensor),
      ref: ([x, i, s]) => R.scatter(x as Arr, 1, i as Arr, s as Arr),
    });
  });
  test('scatter(value) along dim 0', () => {
    const index = [...rng.perm(3), ...rng.perm(3)].slice(0, 4);
    checkOp({
      inputs: [randn(rng, [3, 4]), ints([1, 4], index)],
      run: ([x, i]) => (x as Tensor).scatter(0, i as Tensor, 2.5),
      ref: ([x, i]) => R.scatter(x as Arr, 0, i as Arr, 2.5),
    });
  });
  test('scatter_add with duplicate indices sums', () => {
    checkOp({
      inputs: [randn(rng, [2, 4]), ints([2, 5], [0, 0, 3, 1, 0, 2, 2, 2, 3, 3]), randn(rng, [2, 5])],
      run: ([x, i, s]) => (x as Tensor).scatter_add(1, i as Tensor, s as Tensor),
      ref: ([x, i, s]) => R.scatter(x as Arr, 1, i as Arr, s as Arr, true),
    });
  });

  test('masked_select with a broadcast mask returns the selected elements in row-major order', () => {
    const mask = [1, 0, 1, 1];
    checkOp({
      inputs: [randn(rng, [3, 4]), ints([4], mask, 'bool')],
      run: ([x, m]) => (x as Tensor).masked_select(m as Tensor),
      ref: ([x]) => {
        const sel = (x as Arr).data.filter((_, i) => mask[i % 4] === 1);
        return R.arr([sel.length], sel);
      },
    });
  });

  test('F.embedding: rows of the weight; gradients accumulate on repeated ids; padding_idx gets none', () => {
    checkOp({
      inputs: [ints([2, 3], [1, 4, 1, 0, 2, 4]), randn(rng, [5, 3])],
      run: ([i, w]) => F.embedding(i as Tensor, w as Tensor),
      ref: ([i, w]) => R.reshape(R.indexSelect(w as Arr, 0, (i as Arr).data), [2, 3, 3]),
    });
    torch.tidy(() => {
      const w = torch.ones([4, 2], { requires_grad: true });
      F.embedding(makeTensor(ints([3], [0, 2, 2])), w, 2)
        .sum()
        .backward();
      assertTensor(w.grad as Tensor, [4, 2], [1, 1, 0, 0, 0, 0, 0, 0], 0);
    });
  });
});

describe('cat, stack, split, chunk, unbind', () => {
  test('cat along dims 0, 1, -1 with different sizes on the cat dim', () => {
    checkOp({
      inputs: [randn(rng, [1, 3, 4]), randn(rng, [2, 3, 4])],
      run: ([a, b]) => torch.cat([a as Tensor, b as Tensor], 0),
      ref: ([a, b]) => R.cat([a as Arr, b as Arr], 0),
    });
    checkOp({
      inputs: [randn(rng, [2, 1, 4]), randn(rng, [2, 3, 4]), randn(rng, [2, 2, 4])],
      run: ([a, b, c]) => torch.cat([a as Tensor, b as Tensor, c as Tensor], 1),
      ref: ([a, b, c]) => R.cat([a as Arr, b as Arr, c as Arr], 1),
    });
    checkOp({
      inputs: [randn(rng, [2, 3, 2]), randn(rng, [2, 3, 4])],
      run: ([a, b]) => torch.cat([a as Tensor, b as Tensor], -1),
      ref: ([a, b]) => R.cat([a as Arr, b as Arr], -1),
    });
  });

  for (const dim of [0, 1, 2, 3, -1]) {
    test(`stack along dim ${dim}`, () => {
      checkOp({
        inputs: [randn(rng, X), randn(rng, X), randn(rng, X)],
        run: (xs) => torch.stack(xs, dim),
        ref: (xs) => R.stack(xs, dim),
      });
    });
  }

  test('split(int) with an uneven last piece; split(sizes)', () => {
    checkOp({ inputs: [randn(rng, [2, 7])], run: (xs) => t0(xs).split(3, 1), ref: (xs) => R.split(a0(xs), 3, 1) });
    checkOp({ inputs: [randn(rng, [5, 2])], run: (xs) => t0(xs).split([1, 3, 1]), ref: (xs) => R.splitSizes(a0(xs), [1, 3, 1], 0) });
  });

  test('chunk: pieces of ceil(n / chunks) (7 in 3 -> 3,3,1; 5 in 3 -> 2,2,1; 6 in 4 -> 2,2,2)', () => {
    for (const [n, k, sizes] of [
      [7, 3, [3, 3, 1]],
      [5, 3, [2, 2, 1]],
      [6, 4, [2, 2, 2]],
    ] as [number, number, number[]][]) {
      checkOp({
        inputs: [randn(rng, [2, n])],
        run: (xs) => t0(xs).chunk(k, 1),
        ref: (xs) => {
          const r = R.chunk(a0(xs), k, 1);
          assert.deepEqual(
            r.map((p) => p.shape[1]),
            sizes,
          );
          return r;
        },
      });
    }
  });

  test('unbind(1)', () => {
    checkOp({ inputs: [randn(rng, X)], run: (xs) => t0(xs).unbind(1), ref: (xs) => [0, 1, 2].map((i) => R.select(a0(xs), 1, i)) });
  });

  test('cat of mismatched shapes throws an Error naming cat', () => {
    torch.tidy(() => {
      assert.throws(
        () => torch.cat([torch.zeros([2, 3]), torch.zeros([2, 4])], 0),
        (e: Error) => e instanceof Error && /cat/.test(e.message),
      );
    });
  });
});

describe('repeat, expand, flip, roll', () => {
  const cases: [string, number[], (x: Tensor) => Tensor, (x: Arr) => Arr][] = [
    ['repeat(2, 3)', [2, 3], (x) => x.repeat(2, 3), (x) => R.repeat(x, [2, 3])],
    ['repeat(2, 1, 2) adds a leading dim', [2, 3], (x) => x.repeat([2, 1, 2]), (x) => R.repeat(x, [2, 1, 2])],
    ['expand [3,1] -> [2,3,4]', [3, 1], (x) => x.expand(2, 3, 4), (x) => R.expand(x, [2, 3, 4])],
    ['expand with -1 keeps a dim', [3, 1], (x) => x.expand([-1, 5]), (x) => R.expand(x, [3, 5])],
    ['expand then contiguous', [1, 4], (x) => x.expand(3, 4).contiguous(), (x) => R.expand(x, [3, 4])],
    ['flip(0)', X, (x) => x.flip(0), (x) => R.flip(x, [0])],
    ['flip([1, 2])', X, (x) => x.flip([1, 2]), (x) => R.flip(x, [1, 2])],
    ['roll(1, 2)', X, (x) => x.roll(1, 2), (x) => R.roll(x, [1], [2])],
    ['roll([-1, 5], [0, 2])', X, (x) => x.roll([-1, 5], [0, 2]), (x) => R.roll(x, [-1, 5], [0, 2])],
  ];
  for (const [name, shape, run, ref] of cases) {
    test(name, () => checkOp({ inputs: [randn(rng, shape)], run: (xs) => run(t0(xs)), ref: (xs) => ref(a0(xs)) }));
  }
  test('expand_as', () => {
    checkOp({
      inputs: [randn(rng, [1, 4]), randn(rng, [3, 4], { grad: false })],
      run: ([a, b]) => (a as Tensor).expand_as(b as Tensor),
      ref: ([a]) => R.expand(a as Arr, [3, 4]),
    });
  });
  test('expanding a non-1 dim throws an Error naming expand', () => {
    torch.tidy(() => {
      assert.throws(
        () => torch.zeros([2, 3]).expand(4, 3),
        (e: Error) => /expand/.test(e.message),
      );
    });
  });
});

describe('meshgrid, allclose, metadata', () => {
  test("meshgrid 'ij' and 'xy'", () => {
    checkOp({
      inputs: [randn(rng, [3]), randn(rng, [2])],
      run: ([a, b]) => torch.meshgrid([a as Tensor, b as Tensor], 'ij'),
      ref: ([a, b]) => [R.expand(R.reshape(a as Arr, [3, 1]), [3, 2]), R.expand(R.reshape(b as Arr, [1, 2]), [3, 2])],
    });
    checkOp({
      inputs: [randn(rng, [3]), randn(rng, [2])],
      run: ([a, b]) => torch.meshgrid([a as Tensor, b as Tensor], 'xy'),
      ref: ([a, b]) => [R.expand(R.reshape(a as Arr, [1, 3]), [2, 3]), R.expand(R.reshape(b as Arr, [2, 1]), [2, 3])],
    });
  });

  test('allclose uses |a - b| <= atol + rtol * |b|', () => {
    torch.tidy(() => {
      const a = T([3], [1, 2, 3]);
      assert.equal(torch.allclose(a, T([3], [1, 2, 3 + 2e-5])), true);
      assert.equal(torch.allclose(a, T([3], [1, 2, 3 + 1e-4])), false);
      assert.equal(torch.allclose(a, T([3], [1, 2, 3.01]), 0, 0.02), true);
    });
  });

  test('shape, ndim, dim(), size(d), numel(), dtype, device', () => {
    torch.tidy(() => {
      const x = torch.zeros([2, 3, 4], { dtype: 'float64' });
      assert.deepEqual(x.shape, [2, 3, 4]);
      assert.equal(x.ndim, 3);
      assert.equal(x.dim(), 3);
      assert.equal(x.size(1), 3);
      assert.equal(x.size(-1), 4);
      assert.throws(() => x.size(3), RangeError);
      assert.equal(x.numel(), 24);
      assert.equal(x.dtype, 'float64');
      assert.equal(x.device, 'cpu');
      assert.equal(torch.zeros([]).numel(), 1);
    });
  });
});
