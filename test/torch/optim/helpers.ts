// Shared helpers for the optim tests: deterministic data and float64 reference arithmetic.
import assert from 'node:assert/strict';
import * as torch from '../../../src/torch/index.js';

/** Deterministic pseudo-gradients: step t (1-based), element i, scaled. */
export function fakeGrad(t: number, n: number, scale = 1): number[] {
  return Array.from({ length: n }, (_, i) => scale * Math.sin(1.7 * t + 0.9 * i + 0.3) * (1 + 0.25 * Math.cos(3.1 * i * t)));
}

/** A parameter holding `values` in dtype. */
export function param(values: number[], dtype: torch.DType = 'float32'): torch.nn.Parameter {
  return torch.tidy(() => new torch.nn.Parameter(torch.tensor(values, { dtype })));
}

/** Sets p.grad to a tensor of `values` with p's dtype (the temporary handle is released). */
export function setGrad(p: torch.Tensor, values: number[]): void {
  torch.tidy(() => {
    p.grad = torch.tensor(values, { dtype: p.dtype });
  });
}

/** Asserts |actual - expected| <= tol * max(1, |expected|) elementwise. */
export function assertClose(actual: readonly number[], expected: readonly number[], tol: number, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  actual.forEach((a, i) => {
    const e = expected[i] as number;
    worst = Math.max(worst, Math.abs(a - e) / Math.max(1, Math.abs(e)));
  });
  assert.ok(
    worst <= tol,
    `${what}: max relative error ${worst} > ${tol}\n  actual   ${actual.join(', ')}\n  expected ${expected.join(', ')}`,
  );
}

/** mulberry32: a small seeded PRNG for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
