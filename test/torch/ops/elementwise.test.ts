// Elementwise math and comparisons with broadcasting: forward values vs plain-TS references and
// gradients vs finite differences (see test/helpers/gradcheck.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { assertTensor, checkOp, type InputSpec, input, ints, makeTensor, randn, T, uniform } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import * as R from '../../helpers/reference.js';
import { type Arr, numel } from '../../helpers/reference.js';

const rng = new Rng(0xe1e);

const SHAPE_PAIRS: [number[], number[]][] = [
  [
    [2, 3],
    [2, 3],
  ],
  [
    [2, 3, 4],
    [3, 1],
  ],
  [[4], [2, 1, 4]],
  [
    [1, 3],
    [2, 1],
  ],
  [[2, 3], []],
];

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Values on two interleaved grids, so a and b (broadcast in any way) never tie. */
function noTies(shape: number[], offset: number): InputSpec {
  return input(
    shape,
    rng.ints(numel(shape), -5, 5).map((k) => k * 0.2 + offset),
  );
}

interface BinaryOp {
  name: string;
  a: (shape: number[]) => InputSpec;
  b: (shape: number[]) => InputSpec;
  run: (a: Tensor, b: Tensor) => Tensor;
  f: (x: number, y: number) => number;
}

const BINARY: BinaryOp[] = [
  { name: 'add', a: (s) => randn(rng, s), b: (s) => randn(rng, s), run: (a, b) => a.add(b), f: (x, y) => x + y },
  { name: 'add alpha', a: (s) => randn(rng, s), b: (s) => randn(rng, s), run: (a, b) => a.add(b, 2.5), f: (x, y) => x + 2.5 * y },
  { name: 'sub', a: (s) => randn(rng, s), b: (s) => randn(rng, s), run: (a, b) => a.sub(b), f: (x, y) => x - y },
  { name: 'sub alpha', a: (s) => randn(rng, s), b: (s) => randn(rng, s), run: (a, b) => a.sub(b, 0.5), f: (x, y) => x - 0.5 * y },
  { name: 'mul', a: (s) => randn(rng, s), b: (s) => randn(rng, s), run: (a, b) => a.mul(b), f: (x, y) => x * y },
  {
    name: 'div',
    a: (s) => randn(rng, s),
    b: (s) => input(s, rng.awayFrom(numel(s), -2, 2, [0], 0.3)),
    run: (a, b) => a.div(b),
    f: (x, y) => x / y,
  },
  {
    name: 'pow',
    a: (s) => uniform(rng, s, 0.5, 2),
    b: (s) => uniform(rng, s, -2, 2),
    run: (a, b) => a.pow(b),
    f: (x, y) => x ** y,
  },
  { name: 'maximum', a: (s) => noTies(s, 0.05), b: (s) => noTies(s, -0.05), run: (a, b) => a.maximum(b), f: Math.max },
  { name: 'minimum', a: (s) => noTies(s, 0.05), b: (s) => noTies(s, -0.05), run: (a, b) => torch.minimum(a, b), f: Math.min },
];

describe('binary elementwise ops with broadcasting', () => {
  for (const o of BINARY) {
    for (const [sa, sb] of SHAPE_PAIRS) {
      test(`${o.name} ${fmt(sa)} with ${fmt(sb)}`, () => {
        checkOp({
          inputs: [o.a(sa), o.b(sb)],
          run: ([a, b]) => o.run(a as Tensor, b as Tensor),
          ref: ([a, b]) => R.zip(a as Arr, b as Arr, o.f),
        });
      });
    }
    test(`${o.name} broadcasts both ways: [3,1] with [1,4] (and the reverse)`, () => {
      checkOp({
        inputs: [o.a([3, 1]), o.b([1, 4])],
        run: ([a, b]) => o.run(a as Tensor, b as Tensor),
        ref: ([a, b]) => R.zip(a as Arr, b as Arr, o.f),
      });
      checkOp({
        inputs: [o.a([1, 4]), o.b([3, 1])],
        run: ([a, b]) => o.run(a as Tensor, b as Tensor),
        ref: ([a, b]) => R.zip(a as Arr, b as Arr, o.f),
      });
    });
  }
});

interface ScalarOp {
  name: string;
  x: InputSpec;
  run: (x: Tensor) => Tensor;
  f: (x: number) => number;
}

const SCALAR: ScalarOp[] = [
  { name: 'add(1.5)', x: randn(rng, [2, 3]), run: (x) => x.add(1.5), f: (x) => x + 1.5 },
  { name: 'add(1.5, alpha=2)', x: randn(rng, [2, 3]), run: (x) => x.add(1.5, 2), f: (x) => x + 3 },
  { name: 'sub(0.75)', x: randn(rng, [2, 3]), run: (x) => x.sub(0.75), f: (x) => x - 0.75 },
  { name: 'sub(0.75, alpha=-2)', x: randn(rng, [2, 3]), run: (x) => x.sub(0.75, -2), f: (x) => x + 1.5 },
  { name: 'mul(-2.5)', x: randn(rng, [2, 3]), run: (x) => x.mul(-2.5), f: (x) => -2.5 * x },
  { name: 'div(4)', x: randn(rng, [2, 3]), run: (x) => x.div(4), f: (x) => x / 4 },
  { name: 'div(0.3)', x: randn(rng, [2, 3]), run: (x) => x.div(0.3), f: (x) => x / 0.3 },
  { name: 'pow(2)', x: randn(rng, [2, 3]), run: (x) => x.pow(2), f: (x) => x * x },
  { name: 'pow(3)', x: randn(rng, [2, 3]), run: (x) => x.pow(3), f: (x) => x ** 3 },
  { name: 'pow(0.5)', x: uniform(rng, [2, 3], 0.2, 3), run: (x) => x.pow(0.5), f: Math.sqrt },
  { name: 'pow(-1.5)', x: uniform(rng, [2, 3], 0.2, 3), run: (x) => x.pow(-1.5), f: (x) => x ** -1.5 },
  { name: 'pow(0)', x: randn(rng, [2, 3]), run: (x) => x.pow(0), f: () => 1 },
  {
    name: 'remainder(1.5)',
    x: input([2, 3], rng.awayFrom(6, -4, 4, [-3, -1.5, 0, 1.5, 3], 0.1)),
    run: (x) => x.remainder(1.5),
    f: (x) => R.remainder(x, 1.5),
  },
  {
    name: 'remainder(-1.5)',
    x: input([2, 3], rng.awayFrom(6, -4, 4, [-3, -1.5, 0, 1.5, 3], 0.1)),
    run: (x) => x.remainder(-1.5),
    f: (x) => R.remainder(x, -1.5),
  },
];

describe('tensor-scalar ops', () => {
  for (const o of SCALAR) {
    test(o.name, () => {
      checkOp({ inputs: [o.x], run: ([x]) => o.run(x as Tensor), ref: ([x]) => R.map(x as Arr, o.f) });
    });
  }
});

const INTEGERS_AND_HALVES = Array.from({ length: 17 }, (_, i) => (i - 8) / 2);

const UNARY: ScalarOp[] = [
  { name: 'neg', x: randn(rng, [2, 3, 2]), run: (x) => x.neg(), f: (x) => -x },
  { name: 'abs', x: input([2, 3, 2], rng.awayFrom(12, -3, 3, [0], 0.05)), run: (x) => x.abs(), f: Math.abs },
  { name: 'exp', x: uniform(rng, [2, 3, 2], -3, 3), run: (x) => x.exp(), f: Math.exp },
  { name: 'log', x: uniform(rng, [2, 3, 2], 0.1, 5), run: (x) => x.log(), f: Math.log },
  { name: 'log1p', x: uniform(rng, [2, 3, 2], -0.5, 3), run: (x) => x.log1p(), f: Math.log1p },
  { name: 'sqrt', x: uniform(rng, [2, 3, 2], 0.1, 5), run: (x) => x.sqrt(), f: Math.sqrt },
  { name: 'rsqrt', x: uniform(rng, [2, 3, 2], 0.1, 5), run: (x) => x.rsqrt(), f: (x) => 1 / Math.sqrt(x) },
  { name: 'square', x: randn(rng, [2, 3, 2]), run: (x) => x.square(), f: (x) => x * x },
  { name: 'reciprocal', x: input([2, 3, 2], rng.awayFrom(12, -3, 3, [0], 0.3)), run: (x) => x.reciprocal(), f: (x) => 1 / x },
  { name: 'sin', x: uniform(rng, [2, 3, 2], -4, 4), run: (x) => x.sin(), f: Math.sin },
  { name: 'cos', x: uniform(rng, [2, 3, 2], -4, 4), run: (x) => x.cos(), f: Math.cos },
  { name: 'sign', x: input([2, 3, 2], rng.awayFrom(12, -3, 3, [0], 0.05)), run: (x) => x.sign(), f: Math.sign },
  { name: 'floor', x: input([2, 3, 2], rng.awayFrom(12, -4, 4, INTEGERS_AND_HALVES, 0.05)), run: (x) => x.floor(), f: Math.floor },
  { name: 'ceil', x: input([2, 3, 2], rng.awayFrom(12, -4, 4, INTEGERS_AND_HALVES, 0.05)), run: (x) => x.ceil(), f: Math.ceil },
  { name: 'round', x: input([2, 3, 2], rng.awayFrom(12, -4, 4, INTEGERS_AND_HALVES, 0.05)), run: (x) => x.round(), f: R.roundHalfEven },
  { name: 'sigmoid', x: uniform(rng, [2, 3, 2], -5, 5), run: (x) => x.sigmoid(), f: R.sigmoid },
  { name: 'tanh', x: uniform(rng, [2, 3, 2], -3, 3), run: (x) => x.tanh(), f: Math.tanh },
  { name: 'relu', x: input([2, 3, 2], rng.awayFrom(12, -3, 3, [0], 0.05)), run: (x) => x.relu(), f: R.relu },
  {
    name: 'clamp(-0.5, 0.7)',
    x: input([2, 3, 2], rng.awayFrom(12, -2, 2, [-0.5, 0.7], 0.05)),
    run: (x) => x.clamp(-0.5, 0.7),
    f: (x) => Math.min(Math.max(x, -0.5), 0.7),
  },
  {
    name: 'clamp(min=-0.5)',
    x: input([2, 3, 2], rng.awayFrom(12, -2, 2, [-0.5], 0.05)),
    run: (x) => x.clamp(-0.5),
    f: (x) => Math.max(x, -0.5),
  },
  {
    name: 'clamp(max=0.7)',
    x: input([2, 3, 2], rng.awayFrom(12, -2, 2, [0.7], 0.05)),
    run: (x) => x.clamp(undefined, 0.7),
    f: (x) => Math.min(x, 0.7),
  },
];

describe('unary ops', () => {
  for (const o of UNARY) {
    test(o.name, () => {
      checkOp({ inputs: [o.x], run: ([x]) => o.run(x as Tensor), ref: ([x]) => R.map(x as Arr, o.f) });
    });
  }

  test('round halves to even (as torch.round)', () => {
    torch.tidy(() => {
      assertTensor(T([8], [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 0.49]).round(), [8], [0, 2, 2, -0, -2, -2, 4, 0], 0);
    });
  });

  test('special values: log(0) = -inf, log(-1) and sqrt(-1) are NaN, x/0 = +-inf, 0/0 = NaN, exp(-inf) = 0', () => {
    torch.tidy(() => {
      assertTensor(T([3], [0, -1, 1]).log(), [3], [Number.NEGATIVE_INFINITY, Number.NaN, 0]);
      assertTensor(T([2], [-1, 4]).sqrt(), [2], [Number.NaN, 2]);
      assertTensor(T([3], [1, -1, 0]).div(T([3], [0, 0, 0])), [3], [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]);
      assertTensor(T([2], [Number.NEGATIVE_INFINITY, 0]).exp(), [2], [0, 1]);
      assertTensor(T([3], [Number.NaN, 1, Number.POSITIVE_INFINITY]).isnan(), [3], [1, 0, 0], 0, 'bool');
    });
  });

  test('lerp(end, 0.3) = self + 0.3 * (end - self), gradients to both', () => {
    checkOp({
      inputs: [randn(rng, [2, 3]), randn(rng, [3])],
      run: ([a, b]) => (a as Tensor).lerp((b as Tensor).expand(2, 3), 0.3),
      ref: ([a, b]) => R.zip(a as Arr, b as Arr, (x, y) => x + 0.3 * (y - x)),
    });
  });

  test('tensor remainder takes the divisor sign', () => {
    const a: number[] = [];
    const b: number[] = [];
    while (a.length < 8) {
      const x = rng.uniform(1, -5, 5)[0] as number;
      const y = rng.awayFrom(1, -2, 2, [0], 0.4)[0] as number;
      const frac = x / y - Math.floor(x / y);
      if (frac > 0.05 && frac < 0.95) {
        a.push(x);
        b.push(y);
      }
    }
    checkOp({
      inputs: [input([2, 4], a), input([2, 4], b)],
      run: ([x, y]) => (x as Tensor).remainder(y as Tensor),
      ref: ([x, y]) => R.zip(x as Arr, y as Arr, R.remainder),
    });
  });

  test('div rounding modes trunc and floor', () => {
    const a = rng.uniform(8, -5, 5);
    const b = rng.awayFrom(8, -2, 2, [0], 0.4);
    for (let i = 0; i < 8; i++) {
      // keep quotients away from integers so float32 rounding cannot flip floor/trunc
      const q = (a[i] as number) / (b[i] as number);
      if (Math.abs(q - Math.round(q)) < 0.05) a[i] = (a[i] as number) + 0.1 * (b[i] as number);
    }
    for (const mode of ['trunc', 'floor'] as const) {
      checkOp({
        inputs: [input([2, 4], a), input([2, 4], b)],
        run: ([x, y]) => (x as Tensor).div(y as Tensor, mode),
        ref: ([x, y]) => R.zip(x as Arr, y as Arr, (p, q) => (mode === 'trunc' ? Math.trunc(p / q) : Math.floor(p / q))),
        grad: false,
      });
      checkOp({
        inputs: [input([2, 4], a)],
        run: ([x]) => (x as Tensor).div(1.5, mode),
        ref: ([x]) => R.map(x as Arr, (p) => (mode === 'trunc' ? Math.trunc(p / 1.5) : Math.floor(p / 1.5))),
        grad: false,
      });
    }
  });
});

type Cmp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
const CMP: Record<Cmp, (x: number, y: number) => boolean> = {
  eq: (x, y) => x === y,
  ne: (x, y) => x !== y,
  lt: (x, y) => x < y,
  le: (x, y) => x <= y,
  gt: (x, y) => x > y,
  ge: (x, y) => x >= y,
};

describe('comparisons (bool results, ties included)', () => {
  for (const name of Object.keys(CMP) as Cmp[]) {
    const f = CMP[name];
    test(`${name} tensor-tensor with broadcasting [2,3,4] vs [3,1]`, () => {
      checkOp({
        inputs: [input([2, 3, 4], rng.ints(24, -2, 3)), input([3, 1], rng.ints(3, -2, 3))],
        run: ([a, b]) => (a as Tensor)[name](b as Tensor),
        ref: ([a, b]) => R.zip(a as Arr, b as Arr, (x, y) => (f(x, y) ? 1 : 0)),
        outDtype: 'bool',
      });
    });
    test(`${name} tensor-scalar`, () => {
      checkOp({
        inputs: [
          input(
            [3, 4],
            rng.ints(12, -2, 3).map((k) => k * 0.5),
          ),
        ],
        run: ([a]) => (a as Tensor)[name](0.5),
        ref: ([a]) => R.map(a as Arr, (x) => (f(x, 0.5) ? 1 : 0)),
        outDtype: 'bool',
      });
    });
    test(`${name} on int64 tensors`, () => {
      checkOp({
        inputs: [ints([4, 3], rng.ints(12, -2, 3)), ints([3], rng.ints(3, -2, 3))],
        run: ([a, b]) => (a as Tensor)[name](b as Tensor),
        ref: ([a, b]) => R.zip(a as Arr, b as Arr, (x, y) => (f(x, y) ? 1 : 0)),
        outDtype: 'bool',
      });
    });
  }

  test('logical_and / logical_or / logical_not', () => {
    const a = ints([2, 3], [1, 0, 1, 0, 1, 1], 'bool');
    const b = ints([3], [1, 1, 0], 'bool');
    const bool = (v: boolean): number => (v ? 1 : 0);
    checkOp({
      inputs: [a, b],
      run: ([x, y]) => (x as Tensor).logical_and(y as Tensor),
      ref: ([x, y]) => R.zip(x as Arr, y as Arr, (p, q) => bool(p !== 0 && q !== 0)),
      outDtype: 'bool',
    });
    checkOp({
      inputs: [a, b],
      run: ([x, y]) => (x as Tensor).logical_or(y as Tensor),
      ref: ([x, y]) => R.zip(x as Arr, y as Arr, (p, q) => bool(p !== 0 || q !== 0)),
      outDtype: 'bool',
    });
    checkOp({
      inputs: [a],
      run: ([x]) => (x as Tensor).logical_not(),
      ref: ([x]) => R.map(x as Arr, (p) => bool(p === 0)),
      outDtype: 'bool',
    });
  });
});

describe('where and masked_fill', () => {
  const cond = ints([2, 1, 3], [1, 0, 1, 0, 0, 1], 'bool');
  const pick = (c: number, x: number, y: number): number => (c ? x : y);

  test('torch.where(cond [2,1,3], a [2,4,3], b [3]) broadcasts all three; gradients to a and b', () => {
    checkOp({
      inputs: [cond, randn(rng, [2, 4, 3]), randn(rng, [3])],
      run: ([c, a, b]) => torch.where(c as Tensor, a as Tensor, b as Tensor),
      ref: ([c, a, b]) => R.zip3(c as Arr, a as Arr, b as Arr, pick),
    });
  });

  test('where with scalar branches', () => {
    checkOp({
      inputs: [cond, randn(rng, [2, 4, 3])],
      run: ([c, a]) => torch.where(c as Tensor, a as Tensor, 0.5),
      ref: ([c, a]) => R.zip(c as Arr, a as Arr, (p, x) => pick(p, x, 0.5)),
    });
    checkOp({
      inputs: [cond, randn(rng, [2, 4, 3])],
      run: ([c, b]) => torch.where(c as Tensor, -1, b as Tensor),
      ref: ([c, b]) => R.zip(c as Arr, b as Arr, (p, y) => pick(p, -1, y)),
    });
    torch.tidy(() => {
      const c = makeTensor(cond);
      // two scalars: libtorch's where.Scalar gives the default dtype
      assertTensor(torch.where(c, 2, 3), [2, 1, 3], [2, 3, 2, 3, 3, 2], 0);
    });
  });

  test('Tensor.where(cond, other) = torch.where(cond, self, other)', () => {
    checkOp({
      inputs: [randn(rng, [2, 4, 3]), cond, randn(rng, [4, 1])],
      run: ([a, c, b]) => (a as Tensor).where(c as Tensor, b as Tensor),
      ref: ([a, c, b]) => R.zip3(c as Arr, a as Arr, b as Arr, pick),
    });
  });

  test('masked_fill with a broadcast mask; the filled positions get zero gradient', () => {
    checkOp({
      inputs: [randn(rng, [2, 3, 4]), ints([3, 1], [1, 0, 1], 'bool')],
      run: ([x, m]) => (x as Tensor).masked_fill(m as Tensor, -7.5),
      ref: ([x, m]) => R.zip(x as Arr, m as Arr, (v, k) => (k ? -7.5 : v)),
    });
  });
});

describe('type promotion (as PyTorch)', () => {
  test('int64 + float scalar -> float32; int64 / int64 -> float32 true division', () => {
    torch.tidy(() => {
      const a = makeTensor(ints([3], [1, 2, 3]));
      assertTensor(a.add(1.5), [3], [2.5, 3.5, 4.5], 0, 'float32');
      assertTensor(a.mul(2), [3], [2, 4, 6], 0, 'int64');
      const p = makeTensor(ints([2], [7, -7]));
      const q = makeTensor(ints([2], [2, 2]));
      assertTensor(p.div(q), [2], [3.5, -3.5], 0, 'float32');
      assertTensor(p.div(q, 'floor'), [2], [3, -4], 0, 'int64');
      assertTensor(p.div(q, 'trunc'), [2], [3, -3], 0, 'int64');
    });
  });

  test('mixed tensor dtypes promote to the wider kind', () => {
    torch.tidy(() => {
      const i32 = makeTensor(ints([2], [1, 2], 'int32'));
      const i64 = makeTensor(ints([2], [3, 4]));
      const u8 = makeTensor(ints([2], [200, 1], 'uint8'));
      const i8 = makeTensor(ints([2], [-1, 1], 'int8'));
      const f32 = T([2], [0.5, 0.25]);
      const f64 = T([2], [0.5, 0.25], 'float64');
      assertTensor(i32.add(i64), [2], [4, 6], 0, 'int64');
      assertTensor(u8.add(i8), [2], [199, 2], 0, 'int16');
      assertTensor(f32.add(i64), [2], [3.5, 4.25], 0, 'float32');
      assertTensor(f32.add(f64), [2], [1, 0.5], 0, 'float64');
    });
  });
});

describe('in-place ops modify self and return it', () => {
  test('add_, sub_, mul_, div_, clamp_, sqrt_, addcmul_, addcdiv_, lerp_, fill_, zero_, copy_, masked_fill_', () => {
    torch.tidy(() => {
      const base = [1, -2, 3, 4, -5, 6];
      const other = [0.5, 2, -1, 4, 0.25, -2];
      const x = T([2, 3], base);
      const o = T([2, 3], other);
      const cases: [string, (t: Tensor) => Tensor, (v: number, i: number) => number][] = [
        ['add_', (t) => t.add_(o, 2), (v, i) => v + 2 * (other[i] as number)],
        ['add_ scalar', (t) => t.add_(1.5), (v) => v + 1.5],
        ['sub_', (t) => t.sub_(o), (v, i) => v - (other[i] as number)],
        ['mul_', (t) => t.mul_(o), (v, i) => v * (other[i] as number)],
        ['mul_ scalar', (t) => t.mul_(-3), (v) => -3 * v],
        ['div_', (t) => t.div_(o), (v, i) => v / (other[i] as number)],
        ['clamp_', (t) => t.clamp_(-1, 2), (v) => Math.min(Math.max(v, -1), 2)],
        ['addcmul_', (t) => t.addcmul_(o, o, 0.5), (v, i) => v + 0.5 * (other[i] as number) ** 2],
        ['addcdiv_', (t) => t.addcdiv_(o, T([2, 3], [2, 2, 2, 2, 2, 2]), 3), (v, i) => v + (3 * (other[i] as number)) / 2],
        ['lerp_', (t) => t.lerp_(o, 0.25), (v, i) => v + 0.25 * ((other[i] as number) - v)],
        ['fill_', (t) => t.fill_(7), () => 7],
        ['zero_', (t) => t.zero_(), () => 0],
        ['copy_ (broadcast)', (t) => t.copy_(T([3], [9, 8, 7])), (_, i) => [9, 8, 7][i % 3] as number],
        ['masked_fill_', (t) => t.masked_fill_(T([3], [1, 0, 1]).bool(), -1), (v, i) => (i % 3 === 1 ? v : -1)],
      ];
      for (const [name, f, ref] of cases) {
        const t = x.clone();
        const r = f(t);
        assert.equal(r, t, `${name} returns self`);
        assertTensor(t, [2, 3], base.map(ref), 1e-6);
      }
      const s = T([3], [4, 9, 2]);
      s.sqrt_();
      assertTensor(s, [3], [2, 3, Math.SQRT2], 1e-6);
      assertTensor(x, [2, 3], base, 0); // the source was never touched
    });
  });
});

// A sanity check of the harness itself: it must fail on a wrong reference.
test('the parity harness rejects a wrong reference and a wrong gradient', () => {
  assert.throws(
    () =>
      checkOp({ inputs: [randn(rng, [3])], run: ([x]) => (x as Tensor).exp(), ref: ([x]) => R.map(x as Arr, (v) => Math.exp(v) + 1e-4) }),
    /forward float32/,
  );
  // forward right, gradient wrong: the op is x*x computed as x * detach(x) (gradient x, not 2x)
  assert.throws(
    () =>
      checkOp({
        inputs: [randn(rng, [3])],
        run: ([x]) => (x as Tensor).mul((x as Tensor).detach()),
        ref: ([x]) => R.map(x as Arr, (v) => v * v),
      }),
    /autograd gradient/,
  );
  // integer data is never differentiated
  const spec = ints([2], [1, 2]);
  assert.equal(spec.grad, false);
  assert.equal(R.numel([2, 3, 4]), 24);
});
