// layer_norm, group_norm, batch_norm (train/eval, running statistics), softmax/log_softmax,
// activations and dropout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { assertClose, assertTensor, checkOp, input, makeTensor, randn, T, uniform } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0xb0);
const F = torch.nn.functional;

describe('F.layer_norm', () => {
  test('over the last dim [4] with weight and bias, on [2,3,4]', () => {
    checkOp({
      inputs: [randn(rng, [2, 3, 4], { std: 2 }), randn(rng, [4]), randn(rng, [4])],
      run: ([x, w, b]) => F.layer_norm(x as Tensor, [4], w, b),
      ref: ([x, w, b]) => R.layerNorm(x as Arr, [4], w, b),
    });
  });
  test('over the last two dims [3,4] with weight and bias, eps 1e-3', () => {
    checkOp({
      inputs: [randn(rng, [2, 3, 4]), randn(rng, [3, 4]), randn(rng, [3, 4])],
      run: ([x, w, b]) => F.layer_norm(x as Tensor, [3, 4], w, b, 1e-3),
      ref: ([x, w, b]) => R.layerNorm(x as Arr, [3, 4], w, b, 1e-3),
    });
  });
  test('without affine parameters', () => {
    checkOp({ inputs: [randn(rng, [3, 5])], run: ([x]) => F.layer_norm(x as Tensor, [5]), ref: ([x]) => R.layerNorm(x as Arr, [5]) });
  });
});

describe('F.group_norm', () => {
  test('[2,6,3,3] in 3 groups with weight and bias', () => {
    checkOp({
      inputs: [randn(rng, [2, 6, 3, 3]), randn(rng, [6]), randn(rng, [6])],
      run: ([x, w, b]) => F.group_norm(x as Tensor, 3, w, b),
      ref: ([x, w, b]) => R.groupNorm(x as Arr, 3, w, b),
    });
  });
  test('one group, no affine', () => {
    checkOp({ inputs: [randn(rng, [2, 4, 2, 3])], run: ([x]) => F.group_norm(x as Tensor, 1), ref: ([x]) => R.groupNorm(x as Arr, 1) });
  });
});

describe('F.batch_norm', () => {
  const X = [4, 3, 2, 2];

  test('training normalises with batch statistics (biased variance); gradients to x, weight, bias', () => {
    checkOp({
      inputs: [randn(rng, X, { std: 2 }), randn(rng, [3]), randn(rng, [3])],
      run: ([x, w, b]) => F.batch_norm(x as Tensor, undefined, undefined, w, b, true),
      ref: ([x, w, b]) => R.batchNorm(x as Arr, undefined, undefined, w, b, true).out,
    });
  });

  test('training on [N, C] input (BatchNorm1d shape) without affine', () => {
    checkOp({
      inputs: [randn(rng, [6, 3])],
      run: ([x]) => F.batch_norm(x as Tensor, undefined, undefined, undefined, undefined, true),
      ref: ([x]) => R.batchNorm(x as Arr, undefined, undefined, undefined, undefined, true).out,
    });
  });

  for (const momentum of [0.1, 0.3]) {
    test(`training updates running stats in place: (1 - m) * old + m * batch, unbiased variance (momentum ${momentum})`, () => {
      for (const dtype of ['float32', 'float64'] as const) {
        torch.tidy(() => {
          const x = R.arr(X, rng.normal(16 * 3, 1.5).map(Math.fround));
          const rm = R.arr([3], rng.normal(3).map(Math.fround));
          const rv = R.arr([3], rng.uniform(3, 0.5, 2).map(Math.fround));
          const w = R.arr([3], rng.normal(3).map(Math.fround));
          const b = R.arr([3], rng.normal(3).map(Math.fround));
          const t = (a: Arr): Tensor => makeTensor(input(a.shape, a.data), dtype);
          const [rmT, rvT] = [t(rm), t(rv)];
          const out = F.batch_norm(t(x), rmT, rvT, t(w), t(b), true, momentum, 1e-5);
          const ref = R.batchNorm(x, rm, rv, w, b, true, momentum, 1e-5);
          const tol = dtype === 'float32' ? 1e-5 : 1e-9;
          assertClose(out.toArray(), ref.out.data, tol, `${dtype} output`);
          assertClose(rmT.toArray(), (ref.runningMean as Arr).data, tol, `${dtype} running_mean`);
          assertClose(rvT.toArray(), (ref.runningVar as Arr).data, tol, `${dtype} running_var`);
        });
      }
    });
  }

  test('eval normalises with the running stats; gradients to x, weight, bias', () => {
    const rm = randn(rng, [3], { grad: false });
    const rv = uniform(rng, [3], 0.5, 2, { grad: false });
    checkOp({
      inputs: [randn(rng, X), rm, rv, randn(rng, [3]), randn(rng, [3])],
      run: ([x, m, v, w, b]) => F.batch_norm(x as Tensor, m, v, w, b, false),
      ref: ([x, m, v, w, b]) => R.batchNorm(x as Arr, m, v, w, b, false).out,
    });
  });

  test('eval leaves the running stats alone', () => {
    torch.tidy(() => {
      const rm = T([3], [0.5, -1, 2]);
      const rv = T([3], [1, 2, 0.5]);
      F.batch_norm(torch.randn([2, 3, 2, 2]), rm, rv, undefined, undefined, false);
      assertTensor(rm, [3], [0.5, -1, 2], 0);
      assertTensor(rv, [3], [1, 2, 0.5], 0);
    });
  });

  test('nn.BatchNorm2d: train step updates running stats and num_batches_tracked; eval uses them', () => {
    torch.tidy(() => {
      const bn = new torch.nn.BatchNorm2d(3, 1e-5, 0.2);
      const xa = R.arr(X, rng.normal(48, 2).map(Math.fround));
      const xt = makeTensor(input(X, xa.data));
      const y = bn.forward(xt);
      const ones = R.arr([3], [1, 1, 1]);
      const zeros = R.arr([3], [0, 0, 0]);
      const ref = R.batchNorm(xa, zeros, ones, ones, zeros, true, 0.2);
      assertClose(y.toArray(), ref.out.data, 1e-5, 'train output');
      assertClose((bn.running_mean as Tensor).toArray(), (ref.runningMean as Arr).data, 1e-6, 'running_mean');
      assertClose((bn.running_var as Tensor).toArray(), (ref.runningVar as Arr).data, 1e-6, 'running_var');
      assert.equal((bn.num_batches_tracked as Tensor).item(), 1);
      bn.eval();
      const z = bn.forward(xt);
      const evalRef = R.batchNorm(xa, ref.runningMean, ref.runningVar, ones, zeros, false);
      assertClose(z.toArray(), evalRef.out.data, 1e-5, 'eval output');
      assert.equal((bn.num_batches_tracked as Tensor).item(), 1);
      bn.dispose();
    });
  });
});

describe('softmax and log_softmax', () => {
  for (const dim of [0, 1, 2, -1]) {
    test(`softmax / log_softmax over dim ${dim} of [2,3,4]`, () => {
      checkOp({
        inputs: [randn(rng, [2, 3, 4], { std: 2 })],
        run: ([x]) => (x as Tensor).softmax(dim),
        ref: ([x]) => R.softmax(x as Arr, dim),
      });
      checkOp({
        inputs: [randn(rng, [2, 3, 4], { std: 2 })],
        run: ([x]) => F.log_softmax(x as Tensor, dim),
        ref: ([x]) => R.logSoftmax(x as Arr, dim),
      });
    });
  }

  test('large logits stay finite (max-subtracted)', () => {
    const big = input([2, 5], rng.uniform(10, 80, 120));
    checkOp({ inputs: [big], run: ([x]) => F.softmax(x as Tensor, 1), ref: ([x]) => R.softmax(x as Arr, 1) });
    checkOp({ inputs: [big], run: ([x]) => (x as Tensor).log_softmax(1), ref: ([x]) => R.logSoftmax(x as Arr, 1), gradAtol: 2e-5 });
  });
});

describe('activations', () => {
  const x = (): ReturnType<typeof uniform> => uniform(rng, [3, 5], -4, 4);
  const nonZero = (): ReturnType<typeof input> => input([3, 5], rng.awayFrom(15, -4, 4, [0], 0.05));
  const cases: [string, () => ReturnType<typeof input>, (t: Tensor) => Tensor, (v: number) => number][] = [
    ['gelu exact (erf)', x, (t) => F.gelu(t), R.gelu],
    ["gelu approximate 'tanh'", x, (t) => F.gelu(t, 'tanh'), R.geluTanh],
    ['relu', nonZero, (t) => F.relu(t), R.relu],
    ['sigmoid', x, (t) => F.sigmoid(t), R.sigmoid],
    ['tanh', x, (t) => F.tanh(t), Math.tanh],
    ['erf', x, (t) => F.erf(t), R.erf],
    ['Tensor.erf', x, (t) => t.erf(), R.erf],
    ['silu', x, (t) => F.silu(t), R.silu],
    ['leaky_relu(0.2)', nonZero, (t) => F.leaky_relu(t, 0.2), (v) => (v > 0 ? v : 0.2 * v)],
    ['leaky_relu default slope 0.01', nonZero, (t) => F.leaky_relu(t), (v) => (v > 0 ? v : 0.01 * v)],
    ['nn.GELU module', x, (t) => new torch.nn.GELU().forward(t), R.gelu],
    ['nn.GELU tanh module', x, (t) => new torch.nn.GELU('tanh').forward(t), R.geluTanh],
  ];
  for (const [name, gen, run, f] of cases) {
    test(name, () => {
      checkOp({ inputs: [gen()], run: ([t]) => run(t as Tensor), ref: ([t]) => R.map(t as Arr, f) });
    });
  }

  test('the reference erf matches textbook values', () => {
    assertClose(
      [R.erf(0), R.erf(0.5), R.erf(1), R.erf(2), R.erf(3), R.erf(-1.5)],
      [0, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, 0.9999779095030014, -0.9661051464753108],
      1e-14,
      'erf',
    );
  });
});

describe('F.dropout', () => {
  test('training: the zero fraction is about p and survivors are scaled by 1/(1-p)', () => {
    torch.tidy(() => {
      torch.manual_seed(11);
      for (const p of [0.1, 0.3, 0.7]) {
        const data = rng.uniform(20000, 0.5, 1.5);
        const y = F.dropout(T([200, 100], data), p, true).toArray();
        const zeros = y.filter((v) => v === 0).length / y.length;
        assert.ok(Math.abs(zeros - p) < 0.015, `p=${p}: zero fraction ${zeros}`);
        let worst = 0;
        y.forEach((v, i) => {
          if (v !== 0) worst = Math.max(worst, Math.abs(v - Math.fround(data[i] as number) / (1 - p)));
        });
        assert.ok(worst < 1e-5 * 3, `p=${p}: survivors off by ${worst}`);
      }
    });
  });

  test('eval (training=false) is the identity; p=0 keeps all; p=1 zeroes all', () => {
    torch.tidy(() => {
      const data = rng.normal(100);
      const x = T([10, 10], data);
      assertTensor(F.dropout(x, 0.5, false), [10, 10], data.map(Math.fround), 0);
      assertTensor(F.dropout(x, 0, true), [10, 10], data.map(Math.fround), 0);
      assertTensor(F.dropout(x, 1, true), [10, 10], new Array(100).fill(0), 0);
      const m = new torch.nn.Dropout(0.5);
      m.eval();
      assertTensor(m.forward(x), [10, 10], data.map(Math.fround), 0);
      assert.throws(() => F.dropout(x, 1.5), /p must be in \[0, 1\]/);
    });
  });

  test('same seed, same mask; the gradient is mask / (1 - p)', () => {
    torch.tidy(() => {
      const x = torch.ones([50, 40], { requires_grad: true });
      torch.manual_seed(3);
      const y = F.dropout(x, 0.25, true);
      torch.manual_seed(3);
      const y2 = F.dropout(torch.ones([50, 40]), 0.25, true);
      assert.deepEqual(y.toArray(), y2.toArray());
      y.sum().backward();
      const mask = y.toArray().map((v) => (v === 0 ? 0 : 1));
      assertTensor(
        x.grad as Tensor,
        [50, 40],
        mask.map((m) => m / 0.75),
        1e-6,
      );
    });
  });
});
