import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { param } from './helpers.js';

/** The documented WarmupCosine formula, written out independently. */
function closedForm(i: number, B: number, W: number, M: number, m: number): number {
  if (i < W) return (B * (i + 1)) / (W + 1);
  if (i >= M) return m;
  const t = (i - W) / (M - W);
  return m + 0.5 * (B - m) * (1 + Math.cos(Math.PI * t));
}

function sgd(lr: number | number[]): { opt: torch.optim.SGD; dispose(): void } {
  const lrs = typeof lr === 'number' ? [lr] : lr;
  const ps = lrs.map(() => param([1, 2]));
  const opt = new torch.optim.SGD(
    ps.map((p, i) => ({ params: [p], lr: lrs[i] })),
    { lr: 1 },
  );
  return { opt, dispose: () => torch.dispose(ps) };
}

describe('WarmupCosine', () => {
  const B = 3e-3;
  const W = 10;
  const M = 100;
  const m = 1e-5;

  test('lr_at equals the closed form at several iterations', () => {
    const { opt, dispose } = sgd(B);
    const s = new torch.optim.WarmupCosine(opt, { warmup_iters: W, max_iters: M, min_lr: m });
    for (const i of [0, 1, 5, 9, 10, 11, 37, 55, 99, 100, 150]) {
      const want = closedForm(i, B, W, M, m);
      assert.ok(Math.abs(s.lr_at(i) - want) <= 1e-15, `iteration ${i}: ${s.lr_at(i)} vs ${want}`);
    }
    // Landmarks of the formula.
    assert.ok(Math.abs(s.lr_at(0) - B / (W + 1)) < 1e-18, 'starts near 0');
    assert.equal(s.lr_at(W), B);
    assert.ok(Math.abs(s.lr_at((W + M) / 2) - (B + m) / 2) < 1e-15, 'halfway down at the midpoint');
    dispose();
  });

  test('sets the group lr on construction and on every step', () => {
    const { opt, dispose } = sgd(B);
    const s = new torch.optim.WarmupCosine(opt, { warmup_iters: W, max_iters: M, min_lr: m });
    assert.equal(s.last_iter, 0);
    assert.equal(opt.param_groups[0]?.lr, s.lr_at(0));
    assert.equal(opt.param_groups[0]?.initial_lr, B);
    for (let i = 1; i <= 120; i++) {
      s.step();
      const lr = opt.param_groups[0]?.lr as number;
      assert.equal(lr, s.lr_at(i), `iteration ${i}`);
      assert.ok(Math.abs(lr - closedForm(i, B, W, M, m)) <= 1e-15, `iteration ${i}`);
    }
    assert.deepEqual(s.get_last_lr(), [m]);
    dispose();
  });

  test('warm-up rises monotonically, then the cosine falls monotonically to min_lr at max_iters', () => {
    const { opt, dispose } = sgd(B);
    const s = new torch.optim.WarmupCosine(opt, { warmup_iters: W, max_iters: M, min_lr: m });
    for (let i = 1; i <= W; i++) assert.ok(s.lr_at(i) > s.lr_at(i - 1), `warm-up at ${i}`);
    for (let i = W + 1; i <= M; i++) assert.ok(s.lr_at(i) < s.lr_at(i - 1), `decay at ${i}`);
    assert.equal(s.lr_at(M), m);
    assert.ok(s.lr_at(M - 1) - m < B * 1e-3, 'continuous at max_iters');
    assert.equal(s.lr_at(M + 1000), m);
    dispose();
  });

  test('min_lr defaults to 0; no warm-up starts at the base lr; groups scale from their own base', () => {
    const { opt, dispose } = sgd([0.1, 0.02]);
    const s = new torch.optim.WarmupCosine(opt, { warmup_iters: 0, max_iters: 50 });
    assert.deepEqual(s.get_last_lr(), [0.1, 0.02]);
    assert.equal(s.lr_at(50, 1), 0);
    assert.ok(Math.abs(s.lr_at(25, 1) - 0.01) < 1e-15);
    dispose();
  });

  test('state_dict round trip resumes the exact schedule', () => {
    const a = sgd(B);
    const s1 = new torch.optim.WarmupCosine(a.opt, { warmup_iters: W, max_iters: M, min_lr: m });
    for (let i = 0; i < 42; i++) s1.step();
    const saved = JSON.parse(JSON.stringify(s1.state_dict()));
    const b = sgd(0.5); // a different lr: load_state_dict restores the base lrs and the current lr
    const s2 = new torch.optim.WarmupCosine(b.opt, { warmup_iters: W, max_iters: M, min_lr: m });
    s2.load_state_dict(saved);
    assert.equal(s2.last_iter, 42);
    assert.equal(b.opt.param_groups[0]?.lr, a.opt.param_groups[0]?.lr);
    for (let i = 0; i < 30; i++) {
      s1.step();
      s2.step();
      assert.equal(b.opt.param_groups[0]?.lr, a.opt.param_groups[0]?.lr);
    }
    a.dispose();
    b.dispose();
  });

  test('rejects bad settings', () => {
    const { opt, dispose } = sgd(B);
    assert.throws(() => new torch.optim.WarmupCosine(opt, { warmup_iters: 20, max_iters: 10 }), /max_iters/);
    assert.throws(() => new torch.optim.WarmupCosine(opt, { warmup_iters: -1, max_iters: 10 }), /warmup_iters/);
    dispose();
  });
});

describe('LambdaLR', () => {
  test('lr = base lr * lambda(iter), per group', () => {
    const { opt, dispose } = sgd([0.1, 0.2]);
    const s = new torch.optim.LambdaLR(opt, [(i) => 0.5 ** i, (i) => 1 / (i + 1)]);
    assert.deepEqual(s.get_last_lr(), [0.1, 0.2]);
    s.step();
    s.step();
    assert.deepEqual(
      opt.param_groups.map((g) => g.lr),
      [0.1 * 0.25, 0.2 / 3],
    );
    assert.equal(s.lr_at(10, 0), 0.1 * 0.5 ** 10);
    dispose();
  });

  test('one lambda applies to every group; resuming with last_iter needs initial_lr', () => {
    const { opt, dispose } = sgd([0.1, 0.3]);
    const s = new torch.optim.LambdaLR(opt, (i) => i + 1);
    s.step();
    assert.deepEqual(
      opt.param_groups.map((g) => g.lr),
      [0.2, 0.6],
    );
    const again = new torch.optim.LambdaLR(opt, (i) => i + 1, 4); // resumes: applies iteration 5
    assert.deepEqual(
      opt.param_groups.map((g) => g.lr),
      [0.6000000000000001, 1.7999999999999998],
    );
    assert.equal(again.last_iter, 5);
    const fresh = sgd(0.1);
    assert.throws(() => new torch.optim.LambdaLR(fresh.opt, (i) => i, 3), /initial_lr/);
    fresh.dispose();
    dispose();
  });
});
