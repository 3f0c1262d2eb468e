import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { assertClose, fakeGrad, param, setGrad } from './helpers.js';

function setup(scale: number): { ps: torch.Tensor[]; grads: number[][]; dispose(): void } {
  const sizes = [6, 3, 10];
  const ps = sizes.map((n) =>
    param(
      Array.from({ length: n }, () => 0),
      'float64',
    ),
  );
  const grads = sizes.map((n, k) => fakeGrad(k + 1, n, scale));
  ps.forEach((p, k) => {
    setGrad(p, grads[k] as number[]);
  });
  return { ps, grads, dispose: () => torch.dispose(ps) };
}

const gradOf = (p: torch.Tensor): number[] => torch.tidy(() => p.grad?.toArray() ?? []);

test('the total norm is sqrt(sum of squares) over all gradients, and they are scaled to max_norm', () => {
  const { ps, grads, dispose } = setup(3);
  const total = Math.sqrt(grads.flat().reduce((s, g) => s + g * g, 0));
  const max_norm = 1.5;
  assert.ok(total > max_norm);
  const got = torch.optim.clip_grad_norm_(ps, max_norm);
  assert.ok(Math.abs(got - total) <= 1e-12 * total, `${got} vs ${total}`);
  const coef = max_norm / (total + 1e-6);
  ps.forEach((p, k) => {
    assertClose(
      gradOf(p),
      (grads[k] as number[]).map((g) => g * coef),
      1e-14,
      `grad ${k}`,
    );
  });
  const after = Math.sqrt(ps.flatMap(gradOf).reduce((s, g) => s + g * g, 0));
  assert.ok(after <= max_norm && after > max_norm - 1e-5, `norm after clipping ${after}`);
  dispose();
});

test('no scaling when the norm is under max_norm', () => {
  const { ps, grads, dispose } = setup(0.1);
  const total = Math.sqrt(grads.flat().reduce((s, g) => s + g * g, 0));
  const got = torch.optim.clip_grad_norm_(ps, 10);
  assert.ok(Math.abs(got - total) <= 1e-12 * total);
  ps.forEach((p, k) => {
    assert.deepEqual(gradOf(p), grads[k]);
  });
  dispose();
});

test('other norms: inf is the largest |element|, 1 the sum of |elements|', () => {
  const { ps, grads, dispose } = setup(1);
  const flat = grads.flat();
  const inf = torch.optim.clip_grad_norm_(ps, 1e9, 'inf');
  assert.equal(inf, Math.max(...flat.map(Math.abs)));
  const one = torch.optim.clip_grad_norm_(ps, 1e9, 1);
  assert.ok(Math.abs(one - flat.reduce((s, g) => s + Math.abs(g), 0)) < 1e-12);
  dispose();
});

test('float32 gradients, a single tensor, parameters without grads, and temporaries', () => {
  const p = param([3, 4]);
  const q = param([1]);
  setGrad(p, [3, 4]);
  assert.ok(p.grad !== undefined); // the parameter's own handle on its grad, made on first access
  const before = torch.memory_stats().tensors;
  assert.equal(torch.optim.clip_grad_norm_([p, q], 1), 5);
  assert.equal(torch.memory_stats().tensors, before);
  assertClose(gradOf(p), [3 / (5 + 1e-6), 4 / (5 + 1e-6)], 1e-7, 'clipped');
  assert.equal(torch.optim.clip_grad_norm_(q, 1), 0);
  setGrad(p, [Number.NaN, 1]);
  assert.throws(() => torch.optim.clip_grad_norm_(p, 1, 2, true), /non-finite/);
  p.dispose();
  q.dispose();
});
