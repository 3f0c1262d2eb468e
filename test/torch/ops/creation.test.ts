// Creation ops, random streams, typed-array round trips and dtype conversions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DType, Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { assertClose, assertTensor, T } from '../../helpers/gradcheck.js';
import * as R from '../../helpers/reference.js';

const tidy = torch.tidy;

describe('constant creation', () => {
  test('zeros / ones / full: shape, default float32, values', () => {
    tidy(() => {
      assertTensor(torch.zeros([2, 3]), [2, 3], new Array(6).fill(0), 0, 'float32');
      assertTensor(torch.ones([3, 1, 2]), [3, 1, 2], new Array(6).fill(1), 0, 'float32');
      assertTensor(torch.full([2, 2], 3.5), [2, 2], [3.5, 3.5, 3.5, 3.5], 0, 'float32');
      assertTensor(torch.zeros([0, 3]), [0, 3], [], 0);
      assertTensor(torch.ones([]), [], [1], 0);
      assert.equal(torch.ones([]).item(), 1);
    });
  });

  test('zeros / ones / full with a dtype', () => {
    tidy(() => {
      const dtypes: DType[] = ['float64', 'int64', 'int32', 'uint8', 'int8', 'int16', 'bool', 'float16', 'bfloat16'];
      for (const d of dtypes) {
        assertTensor(torch.zeros([2], { dtype: d }), [2], [0, 0], 0, d);
        assertTensor(torch.ones([2], { dtype: d }), [2], [1, 1], 0, d);
      }
      assertTensor(torch.full([3], 7, { dtype: 'int32' }), [3], [7, 7, 7], 0, 'int32');
      assertTensor(torch.full([2], -2.25, { dtype: 'float64' }), [2], [-2.25, -2.25], 0, 'float64');
    });
  });

  test('*_like keep shape and dtype', () => {
    tidy(() => {
      const x = torch.zeros([2, 3], { dtype: 'int32' });
      assertTensor(torch.ones_like(x), [2, 3], new Array(6).fill(1), 0, 'int32');
      assertTensor(torch.zeros_like(torch.ones([4], { dtype: 'float64' })), [4], [0, 0, 0, 0], 0, 'float64');
      assertTensor(torch.full_like(x, 5), [2, 3], new Array(6).fill(5), 0, 'int32');
      assertTensor(torch.full_like(x, 0.5, { dtype: 'float32' }), [2, 3], new Array(6).fill(0.5), 0, 'float32');
    });
  });

  test('eye', () => {
    tidy(() => {
      assertTensor(torch.eye(3), [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, 'float32');
    });
  });

  test('requires_grad option', () => {
    tidy(() => {
      assert.equal(torch.zeros([2], { requires_grad: true }).requires_grad, true);
      assert.equal(torch.ones([2]).requires_grad, false);
      assert.equal(torch.tensor([1, 2], { requires_grad: true }).requires_grad, true);
    });
  });
});

describe('arange and linspace', () => {
  test('integer arguments give int64 (as PyTorch)', () => {
    tidy(() => {
      assertTensor(torch.arange(5), [5], [0, 1, 2, 3, 4], 0, 'int64');
      assertTensor(torch.arange(2, 11, 3), [3], [2, 5, 8], 0, 'int64');
      assertTensor(torch.arange(5, -1, -2), [3], [5, 3, 1], 0, 'int64');
      assertTensor(torch.arange(3, 3), [0], [], 0, 'int64');
    });
  });

  test('a fractional argument gives float32; values start + i * step, length ceil((end - start) / step)', () => {
    tidy(() => {
      assertTensor(torch.arange(0, 1, 0.25), [4], [0, 0.25, 0.5, 0.75], 0, 'float32');
      assertTensor(torch.arange(0.5, 3), [3], [0.5, 1.5, 2.5], 0, 'float32');
      assertTensor(torch.arange(1, 0, -0.25), [4], [1, 0.75, 0.5, 0.25], 0, 'float32');
      const t = torch.arange(0, 1, 0.1);
      assertTensor(
        t,
        [10],
        Array.from({ length: 10 }, (_, i) => i * 0.1),
        1e-6,
        'float32',
      );
      assertTensor(torch.arange(-1, 1, 0.3), [7], [-1, -0.7, -0.4, -0.1, 0.2, 0.5, 0.8], 1e-6);
      // the length is ceil((end - start) / step) in float64, so 2.1 / 0.3 = 7.000000000000001 gives 8 (as PyTorch)
      assert.deepEqual(torch.arange(-1, 1.1, 0.3).shape, [8]);
    });
  });

  test('an explicit dtype wins', () => {
    tidy(() => {
      assertTensor(torch.arange(0, 4, 1, { dtype: 'float64' }), [4], [0, 1, 2, 3], 0, 'float64');
      assertTensor(torch.arange(0, 4, 1, { dtype: 'int32' }), [4], [0, 1, 2, 3], 0, 'int32');
    });
  });

  test('linspace: start + i * (end - start) / (steps - 1), endpoint included', () => {
    tidy(() => {
      assertTensor(torch.linspace(0, 1, 5), [5], [0, 0.25, 0.5, 0.75, 1], 0, 'float32');
      const ref = (a: number, b: number, n: number): number[] => Array.from({ length: n }, (_, i) => a + (i * (b - a)) / (n - 1));
      assertTensor(torch.linspace(-1, 2, 7), [7], ref(-1, 2, 7), 1e-6);
      assertTensor(torch.linspace(3, -3, 13, { dtype: 'float64' }), [13], ref(3, -3, 13), 1e-12, 'float64');
      assertTensor(torch.linspace(2, 5, 1), [1], [2], 0);
      assertTensor(torch.linspace(2, 5, 0), [0], [], 0);
    });
  });
});

describe('random streams', () => {
  test("manual_seed(42): randn([3]) is PyTorch's documented [0.3367, 0.1288, 0.2345], rand([3]) is [0.8823, 0.9150, 0.3829]", () => {
    tidy(() => {
      torch.manual_seed(42);
      assertClose(torch.randn([3]).toArray(), [0.3367, 0.1288, 0.2345], 5e-5, 'randn seed 42');
      torch.manual_seed(42);
      assertClose(torch.rand([3]).toArray(), [0.8823, 0.915, 0.3829], 5e-5, 'rand seed 42');
      torch.manual_seed(0);
      assertClose(torch.randn([3]).toArray(), [1.541, -0.2934, -2.1788], 5e-5, 'randn seed 0');
      torch.manual_seed(0);
      assertClose(torch.rand([3]).toArray(), [0.4963, 0.7682, 0.0885], 5e-5, 'rand seed 0');
    });
  });

  test('manual_seed makes the global stream reproducible; successive draws differ', () => {
    tidy(() => {
      torch.manual_seed(7);
      const a = torch.randn([50]).toArray();
      const b = torch.rand([20]).toArray();
      torch.manual_seed(7);
      assert.deepEqual(torch.randn([50]).toArray(), a);
      assert.deepEqual(torch.rand([20]).toArray(), b);
      assert.notDeepEqual(torch.randn([50]).toArray(), a);
    });
  });

  test('a Generator seed gives identical streams twice, different streams for different seeds', () => {
    tidy(() => {
      const draw = (seed: number): [number[], number[]] => {
        const g = new torch.Generator(seed);
        return [torch.rand([40], { generator: g }).toArray(), torch.randn([40], { generator: g }).toArray()];
      };
      const a = draw(123);
      assert.deepEqual(draw(123), a);
      const c = draw(124);
      assert.notDeepEqual(c[0], a[0]);
      assert.notDeepEqual(c[1], a[1]);
      // the first and second draws from one generator differ (the state advances)
      assert.notDeepEqual(a[0].slice(0, 20), a[0].slice(20));
    });
  });

  test('Generator(42) follows the same mt19937 stream as manual_seed(42); generator.manual_seed reseeds', () => {
    tidy(() => {
      const g = new torch.Generator(42);
      assertClose(torch.randn([3], { generator: g }).toArray(), [0.3367, 0.1288, 0.2345], 5e-5, 'Generator(42)');
      g.manual_seed(42);
      assertClose(torch.rand([3], { generator: g }).toArray(), [0.8823, 0.915, 0.3829], 5e-5, 'reseeded');
    });
  });

  test('drawing from a Generator leaves the global stream alone', () => {
    tidy(() => {
      torch.manual_seed(9);
      const a = torch.randn([8]).toArray();
      torch.manual_seed(9);
      torch.randn([100], { generator: new torch.Generator(1) });
      assert.deepEqual(torch.randn([8]).toArray(), a);
    });
  });

  test('rand is uniform on [0, 1), randn standard normal (moments on 20000 draws)', () => {
    tidy(() => {
      const g = new torch.Generator(2024);
      const u = torch.rand([20000], { generator: g }).toArray();
      assert.ok(u.every((v) => v >= 0 && v < 1));
      const mean = R.meanOf(u);
      assert.ok(Math.abs(mean - 0.5) < 0.01, `rand mean ${mean}`);
      assert.ok(Math.abs(R.varOf(u, 1) - 1 / 12) < 0.003, 'rand variance');
      const n = torch.randn([20000], { generator: g }).toArray();
      assert.ok(Math.abs(R.meanOf(n)) < 0.03, `randn mean ${R.meanOf(n)}`);
      assert.ok(Math.abs(Math.sqrt(R.varOf(n, 1)) - 1) < 0.03, 'randn std');
      assert.equal(torch.randn([2, 3], { dtype: 'float64', generator: g }).dtype, 'float64');
    });
  });

  test('randint in [low, high) as int64; randperm is a permutation', () => {
    tidy(() => {
      const g = new torch.Generator(5);
      const r = torch.randint(-3, 4, [500], { generator: g });
      assert.equal(r.dtype, 'int64');
      const v = r.toArray();
      assert.ok(v.every((x) => Number.isInteger(x) && x >= -3 && x < 4));
      assert.equal(new Set(v).size, 7);
      const p = torch.randperm(10, { generator: g }).toArray();
      assert.deepEqual(
        [...p].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
    });
  });
});

describe('data in and out', () => {
  test('tensor() from nested arrays, scalars and booleans', () => {
    tidy(() => {
      assertTensor(
        torch.tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        [2, 3],
        [1, 2, 3, 4, 5, 6],
        0,
        'float32',
      );
      assertTensor(torch.tensor(3.5), [], [3.5], 0);
      assertTensor(torch.tensor([[[1]], [[2]]], { dtype: 'int64' }), [2, 1, 1], [1, 2], 0, 'int64');
      assertTensor(torch.tensor([true, false, true], { dtype: 'bool' }), [3], [1, 0, 1], 0, 'bool');
      assertTensor(torch.tensor([0.1, 1 / 3], { dtype: 'float64' }), [2], [0.1, 1 / 3], 0, 'float64');
      assert.throws(() => torch.tensor([[1, 2], [3]]), /ragged/);
    });
  });

  const roundTrip = <A extends ArrayLike<number | bigint>>(arr: A, dtype: DType, shape: number[]): Tensor => {
    const t = torch.fromTypedArray(arr as unknown as Parameters<typeof torch.fromTypedArray>[0], shape, { dtype });
    assert.equal(t.dtype, dtype);
    assert.deepEqual(t.shape, shape);
    const back = t.toTypedArray();
    assert.equal(back.constructor, arr.constructor, `${dtype}: typed array class`);
    assert.deepEqual(
      [...(back as unknown as ArrayLike<number | bigint> & Iterable<number | bigint>)],
      [...(arr as unknown as Iterable<number | bigint>)],
    );
    return t;
  };

  test('typed-array round trips for every dtype keep the exact elements', () => {
    tidy(() => {
      roundTrip(Float32Array.from([0, -0, 1.5, -2.25, 1e-38, 3.4e38, Number.POSITIVE_INFINITY, Number.NaN]), 'float32', [2, 4]);
      roundTrip(Float64Array.from([0.1 + 1e-12, -1e300, 5e-324, Math.PI, Number.NEGATIVE_INFINITY, 2]), 'float64', [3, 2]);
      const big = BigInt64Array.from([2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n, -5n, 0n]);
      roundTrip(big, 'int64', [6]);
      roundTrip(Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -7]), 'int32', [2, 2]);
      roundTrip(Int16Array.from([-32768, 32767, 3]), 'int16', [3]);
      roundTrip(Int8Array.from([-128, 127, 0, -1]), 'int8', [4]);
      roundTrip(Uint8Array.from([0, 255, 128, 7]), 'uint8', [1, 4]);
      roundTrip(Uint8Array.from([1, 0, 0, 1]), 'bool', [2, 2]);
      roundTrip(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]), 'float16', [4]);
      roundTrip(Uint16Array.from([0x3f80, 0xc000, 0x7f7f, 0x0001]), 'bfloat16', [4]);
    });
  });

  test('the default dtype follows the typed array; Uint16Array needs a named dtype', () => {
    tidy(() => {
      assert.equal(torch.fromTypedArray(new Float64Array(2)).dtype, 'float64');
      assert.equal(torch.fromTypedArray(new Int32Array(2)).dtype, 'int32');
      assert.equal(torch.fromTypedArray(new BigInt64Array(2)).dtype, 'int64');
      assert.equal(torch.fromTypedArray(new Uint8Array(2)).dtype, 'uint8');
      assert.throws(() => torch.fromTypedArray(new Uint16Array(2)), /float16 or bfloat16/);
      assert.throws(() => torch.fromTypedArray(new Float32Array(5), [2, 3]), /do not fill/);
      assert.throws(() => torch.fromTypedArray(new Float32Array(2), [2], { dtype: 'float64' }), /needs a Float64Array/);
    });
  });

  test('toArray converts int64 (and bool) to numbers; item() reads one element', () => {
    tidy(() => {
      const t = torch.fromTypedArray(BigInt64Array.from([3n, -4n]), [2]);
      assert.deepEqual(t.toArray(), [3, -4]);
      assert.equal(torch.tensor([[2.5]]).item(), 2.5);
      assert.throws(() => torch.tensor([1, 2]).item(), /2 elements/);
    });
  });
});

describe('dtype conversions', () => {
  test('float -> integer truncates toward zero; float -> bool is nonzero', () => {
    tidy(() => {
      const x = T([6], [-1.7, 2.9, -0.5, 0.5, 100.99, -0]);
      assertTensor(x.long(), [6], [-1, 2, 0, 0, 100, 0], 0, 'int64');
      assertTensor(x.int(), [6], [-1, 2, 0, 0, 100, 0], 0, 'int32');
      // in range only: a negative float -> uint8 is undefined behaviour in C++ (PyTorch too)
      assertTensor(T([4], [0, 0.5, 17.9, 255.5]).to('uint8'), [4], [0, 0, 17, 255], 0, 'uint8');
      assertTensor(T([4], [0, 0.5, -2, Number.NaN]).bool(), [4], [0, 1, 1, 1], 0, 'bool');
    });
  });

  test('integer and bool -> float are exact; float64 -> float32 rounds to nearest (Math.fround)', () => {
    tidy(() => {
      assertTensor(torch.fromTypedArray(Int32Array.from([-3, 16777217, 7])).float(), [3], [-3, 16777216, 7], 0, 'float32');
      assertTensor(torch.fromTypedArray(Int32Array.from([-3, 16777217, 7])).double(), [3], [-3, 16777217, 7], 0, 'float64');
      assertTensor(torch.tensor([true, false], { dtype: 'bool' }).float(), [2], [1, 0], 0, 'float32');
      const vals = [0.1, 1 / 3, Math.PI, 1e-40, 3.5e38, -2.000000001];
      assertTensor(torch.fromTypedArray(Float64Array.from(vals)).float(), [6], vals.map(Math.fround), 0, 'float32');
      const f = T([3], [0.1, 1 / 3, -7.25]);
      assertTensor(f.double(), [3], [0.1, 1 / 3, -7.25].map(Math.fround), 0, 'float64');
    });
  });

  // Half-precision encodings are checked bit for bit against TS encoders (reference.ts).
  const halfInputs = [
    0,
    -0,
    1,
    -2,
    0.1,
    1 / 3,
    65504,
    65519,
    65520,
    1e5,
    6e-5,
    1e-5,
    6e-8,
    2.9e-8,
    1e-8,
    -Math.PI,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    2048.5,
    // subnormal ties: 1.5 and 2.5 units of 2^-24 round to 2; -0.5 unit to -0; 1023.5 units to the smallest normal
    1.5 * 2 ** -24,
    2.5 * 2 ** -24,
    -0.5 * 2 ** -24,
    1023.5 * 2 ** -24,
  ];
  const f32 = halfInputs.map(Math.fround);

  test('float32 -> float16 rounds to nearest even (bits), overflow to inf, subnormals; float16 -> float32 exact', () => {
    tidy(() => {
      const h = T([f32.length], f32).half();
      assert.equal(h.dtype, 'float16');
      const bits = [...(h.toTypedArray() as Uint16Array)];
      assert.deepEqual(bits, f32.map(R.toFloat16Bits));
      assert.deepEqual(h.toArray(), bits.map(R.fromFloat16Bits));
      assert.deepEqual(h.float().toArray(), bits.map(R.fromFloat16Bits));
      const nan = T([1], [Number.NaN]).half().toArray();
      assert.ok(Number.isNaN(nan[0]));
      // raw bits in, values out
      const raw = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8400, 0x7c00, 0x3555]);
      assert.deepEqual(torch.fromTypedArray(raw, [7], { dtype: 'float16' }).toArray(), [...raw].map(R.fromFloat16Bits));
    });
  });

  test('float32 -> bfloat16 keeps the high 16 bits rounded to nearest even; bfloat16 -> float32 exact', () => {
    tidy(() => {
      const vals = [...f32, Math.fround(1 + 2 ** -8), Math.fround(1 + 3 * 2 ** -8), 3.3895313892515355e38, Math.fround(1e-39)];
      const b = T([vals.length], vals).to('bfloat16');
      assert.equal(b.dtype, 'bfloat16');
      const bits = [...(b.toTypedArray() as Uint16Array)];
      assert.deepEqual(bits, vals.map(R.toBfloat16Bits));
      assert.deepEqual(b.toArray(), bits.map(R.fromBfloat16Bits));
      const raw = Uint16Array.from([0x3f80, 0xc000, 0x7f7f, 0x0001, 0x4049]);
      assert.deepEqual(torch.fromTypedArray(raw, [5], { dtype: 'bfloat16' }).toArray(), [...raw].map(R.fromBfloat16Bits));
    });
  });

  test('tensor(data, {dtype: float16 / bfloat16}) rounds as the conversion does', () => {
    tidy(() => {
      const t = torch.tensor([0.1, 65519, -Math.PI], { dtype: 'float16' });
      assert.equal(t.dtype, 'float16');
      assert.deepEqual(
        [...(t.toTypedArray() as Uint16Array)],
        [0.1, 65519, -Math.PI].map((v) => R.toFloat16Bits(Math.fround(v))),
      );
      const b = torch.tensor([0.1, -Math.PI], { dtype: 'bfloat16' });
      assert.deepEqual(
        [...(b.toTypedArray() as Uint16Array)],
        [0.1, -Math.PI].map((v) => R.toBfloat16Bits(Math.fround(v))),
      );
    });
  });

  test('the reference half encoders are right on textbook values', () => {
    assert.equal(R.toFloat16Bits(1), 0x3c00);
    assert.equal(R.toFloat16Bits(65504), 0x7bff);
    assert.equal(R.toFloat16Bits(2 ** -24), 0x0001);
    assert.equal(R.toFloat16Bits(-2), 0xc000);
    assert.equal(R.toFloat16Bits(Math.fround(1 / 3)), 0x3555);
    assert.equal(R.toFloat16Bits(Math.fround(0.1)), 0x2e66);
    assert.equal(R.toBfloat16Bits(1), 0x3f80);
    assert.equal(R.toBfloat16Bits(Math.fround(Math.PI)), 0x4049);
  });
});
