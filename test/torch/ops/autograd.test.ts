// Autograd basics through the binding: requires_grad, accumulation into .grad, clearing it, no_grad,
// detach, retain_graph, explicit output gradients, retain_grad, in-place ops, and a composite chain
// rule check against a plain-TS reference.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { assertTensor, checkOp, randn, T } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0xa9);
const tidy = torch.tidy;
const leaf = (data: number[], shape = [data.length]): Tensor => T(shape, data).requires_grad_();
/** The tensor's .grad, asserted present. */
function gradOf(t: Tensor): Tensor {
  const g = t.grad;
  assert.ok(g !== undefined, 'no .grad');
  return g;
}

describe('requires_grad and the graph', () => {
  test('leaves, results, grad_fn names, is_leaf', () => {
    tidy(() => {
      const x = leaf([1, 2, 3]);
      const c = T([3], [4, 5, 6]);
      assert.equal(x.requires_grad, true);
      assert.equal(c.requires_grad, false);
      assert.equal(x.is_leaf, true);
      assert.equal(x.grad_fn, undefined);
      const y = x.mul(c);
      assert.equal(y.requires_grad, true);
      assert.equal(y.is_leaf, false);
      assert.equal(y.grad_fn, 'MulBackward0');
      assert.equal(y.sum().grad_fn, 'SumBackward0');
      assert.equal(c.mul(c).requires_grad, false);
      x.requires_grad_(false);
      assert.equal(x.requires_grad, false);
      assert.equal(x.mul(c).requires_grad, false);
    });
  });

  test('only floating tensors can require gradients', () => {
    tidy(() => {
      assert.throws(() => torch.arange(3).requires_grad_(), /floating point|require grad/i);
    });
  });
});

describe('.grad accumulation and clearing', () => {
  test('backward accumulates into .grad across two calls', () => {
    tidy(() => {
      const x = leaf([1, 2, 3]);
      assert.equal(x.grad, undefined);
      x.mul(x).sum().backward();
      assertTensor(gradOf(x), [3], [2, 4, 6], 0);
      x.mul(x).sum().backward();
      assertTensor(gradOf(x), [3], [4, 8, 12], 0);
      x.mul(3).sum().backward();
      assertTensor(gradOf(x), [3], [7, 11, 15], 0);
    });
  });

  test('t.grad = undefined clears it; the next backward starts fresh; a set grad is accumulated into', () => {
    tidy(() => {
      const x = leaf([1, 2, 3]);
      x.mul(x).sum().backward();
      x.grad = undefined;
      assert.equal(x.grad, undefined);
      x.mul(x).sum().backward();
      assertTensor(gradOf(x), [3], [2, 4, 6], 0);
      x.grad = T([3], [10, 20, 30]);
      x.sum().backward();
      assertTensor(gradOf(x), [3], [11, 21, 31], 0);
    });
  });

  test('.grad is one tensor owned by its parameter, as in PyTorch: same object each access, released with it', () => {
    const x = leaf([1, 2, 3]);
    tidy(() => x.mul(x).sum().backward());
    const g = gradOf(x);
    const live = torch.memory_stats().tensors;
    for (let i = 0; i < 50; i++) assert.equal(x.grad, g);
    assert.equal(torch.memory_stats().tensors, live, 'reading .grad made no new handles');
    // backward accumulates in place: the same tensor, now holding the sum
    tidy(() => x.mul(3).sum().backward());
    assert.equal(x.grad, g);
    assertTensor(g, [3], [5, 7, 9], 0);
    // zero_grad(set_to_none=false) zeroes that same tensor; the default set_to_none releases it
    const opt = new torch.optim.SGD([x], { lr: 0.1 });
    opt.zero_grad(false);
    assert.equal(x.grad, g);
    assertTensor(g, [3], [0, 0, 0], 0);
    opt.zero_grad();
    assert.equal(g.isDisposed, true);
    assert.equal(x.grad, undefined);
    // a gradient assigned from outside: the caller's tensor stays the caller's
    const mine = T([3], [1, 1, 1]);
    x.grad = mine;
    const owned = gradOf(x);
    assert.notEqual(owned, mine);
    mine.dispose();
    assertTensor(owned, [3], [1, 1, 1], 0);
    // a caller that disposes the grad anyway gets a fresh handle next time, not an error
    owned.dispose();
    assertTensor(gradOf(x), [3], [1, 1, 1], 0);
    const last = gradOf(x);
    x.dispose();
    assert.equal(last.isDisposed, true);
    assert.equal(torch.memory_stats().tensors, live - 2, 'x and its grad released, nothing else left');
  });

  test('a non-leaf has no .grad unless retain_grad()', () => {
    tidy(() => {
      const x = leaf([1, -2]);
      const h = x.mul(2);
      const k = x.mul(3);
      h.retain_grad();
      h.mul(h).sum().add(k.sum()).backward();
      assertTensor(gradOf(h), [2], [4, -8], 0);
      assert.equal(k.grad, undefined);
      assertTensor(gradOf(x), [2], [11, -13], 0);
    });
  });
});

describe('no_grad, enable_grad, detach', () => {
  test('no_grad produces tensors without requires_grad and restores the mode (also after a throw)', () => {
    tidy(() => {
      const x = leaf([1, 2]);
      assert.equal(torch.is_grad_enabled(), true);
      const y = torch.no_grad(() => {
        assert.equal(torch.is_grad_enabled(), false);
        return x.mul(2);
      });
      assert.equal(y.requires_grad, false);
      assert.equal(y.grad_fn, undefined);
      assert.equal(torch.is_grad_enabled(), true);
      assert.throws(() =>
        torch.no_grad(() => {
          throw new Error('boom');
        }),
      );
      assert.equal(torch.is_grad_enabled(), true);
      const z = torch.no_grad(() => torch.enable_grad(() => x.mul(2)));
      assert.equal(z.requires_grad, true);
    });
  });

  test('detach: no grad, same storage, and the gradient does not flow through it', () => {
    tidy(() => {
      const x = leaf([1, 2, 3]);
      const d = x.detach();
      assert.equal(d.requires_grad, false);
      x.mul(x.detach()).sum().backward();
      assertTensor(gradOf(x), [3], [1, 2, 3], 0);
      d.mul_(2); // shares x's storage
      assertTensor(x, [3], [2, 4, 6], 0);
    });
  });

  test('in-place on a leaf that requires grad throws; under no_grad it is allowed', () => {
    tidy(() => {
      const x = leaf([1, 2]);
      assert.throws(() => x.add_(1), /leaf Variable that requires grad/);
      torch.no_grad(() => x.add_(1));
      assertTensor(x, [2], [2, 3], 0);
    });
  });
});

describe('backward options', () => {
  test('a second backward through the same graph needs retain_graph (error otherwise)', () => {
    tidy(() => {
      const x = leaf([1, 2]);
      const y = x.exp().sum();
      y.backward();
      assert.throws(
        () => y.backward(),
        (e: Error) => e instanceof Error && /second time/.test(e.message) && /retain_graph/.test(e.message),
      );
      const x2 = leaf([1, 2]);
      const y2 = x2.exp().sum();
      y2.backward(undefined, { retain_graph: true });
      y2.backward();
      assertTensor(gradOf(x2), [2], [2 * Math.E, 2 * Math.E ** 2], 1e-6);
    });
  });

  test('a non-scalar output needs an explicit gradient', () => {
    tidy(() => {
      const x = leaf([1, 2, 3, 4], [2, 2]);
      const y = x.mul(3);
      assert.throws(() => y.backward(), /implicitly created only for scalar outputs/);
      y.backward(T([2, 2], [1, 0.5, -1, 2]));
      assertTensor(gradOf(x), [2, 2], [3, 1.5, -3, 6], 0);
    });
  });

  test('torch.backward over several outputs sums their gradients; a tensor without grad cannot backward', () => {
    tidy(() => {
      const x = leaf([1, 2]);
      torch.backward([x.mul(x).sum(), x.mul(5)], [T([], [1]), T([2], [1, 2])]);
      assertTensor(gradOf(x), [2], [2 + 5, 4 + 10], 0);
      assert.throws(() => T([], [1]).backward(), /does not require grad/);
    });
  });

  test('in-place ops on non-leaves are differentiated (clone().mul_(x) is x^2)', () => {
    checkOp({
      inputs: [randn(rng, [2, 3])],
      run: ([x]) => (x as Tensor).clone().mul_(x as Tensor),
      ref: ([x]) => R.map(x as Arr, (v) => v * v),
    });
  });

  test('a shared input used twice gets both contributions (x * sigmoid(x))', () => {
    checkOp({ inputs: [randn(rng, [5])], run: ([x]) => (x as Tensor).mul((x as Tensor).sigmoid()), ref: ([x]) => R.map(x as Arr, R.silu) });
  });
});

test('chain rule through a small network: log_softmax(tanh(x W1^T + b1) W2^T) vs a plain-TS reference', () => {
  checkOp({
    inputs: [randn(rng, [3, 4]), randn(rng, [5, 4], { std: 0.5 }), randn(rng, [5]), randn(rng, [2, 5], { std: 0.5 })],
    run: ([x, w1, b1, w2]) =>
      torch.nn.functional.linear(torch.nn.functional.linear(x as Tensor, w1 as Tensor, b1).tanh(), w2 as Tensor).log_softmax(-1),
    ref: ([x, w1, b1, w2]) => R.logSoftmax(R.linear(R.map(R.linear(x as Arr, w1 as Arr, b1), Math.tanh), w2 as Arr), -1),
  });
});
