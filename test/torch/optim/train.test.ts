// End to end: a tiny conv net learns to segment a bright square with AdamW + WarmupCosine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { rng } from './helpers.js';

const { nn } = torch;
const F = nn.functional;
const S = 16;

/** n images [n, 1, S, S]: faint noise plus a bright square of side 3-6 at a random place; targets its mask. */
function makeData(n: number, seed: number): { x: torch.Tensor; y: torch.Tensor } {
  const rand = rng(seed);
  const x = new Float32Array(n * S * S);
  const y = new Float32Array(n * S * S);
  for (let k = 0; k < n; k++) {
    const side = 3 + Math.floor(rand() * 4);
    const r0 = Math.floor(rand() * (S - side + 1));
    const c0 = Math.floor(rand() * (S - side + 1));
    const bright = 0.7 + 0.3 * rand();
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const i = k * S * S + r * S + c;
        const inside = r >= r0 && r < r0 + side && c >= c0 && c < c0 + side;
        x[i] = 0.2 * rand() + (inside ? bright : 0);
        y[i] = inside ? 1 : 0;
      }
    }
  }
  return {
    x: torch.fromTypedArray(x, [n, 1, S, S]).keep(),
    y: torch.fromTypedArray(y, [n, 1, S, S]).keep(),
  };
}

test('a tiny conv net trains: loss falls 10x, and steps leak no tensors', () => {
  torch.manual_seed(0);
  const net = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(8, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(8, 1, 1),
  );
  const data = makeData(64, 1234);
  const steps = 300;
  const batch = 16;
  const opt = new torch.optim.AdamW(net.parameters(), { lr: 1e-2, weight_decay: 1e-4 });
  const sched = new torch.optim.WarmupCosine(opt, { warmup_iters: 20, max_iters: steps, min_lr: 1e-4 });

  const losses: number[] = [];
  let baseline = -1;
  for (let it = 0; it < steps; it++) {
    if (it === 5) baseline = torch.memory_stats().tensors;
    const loss = torch.tidy(() => {
      const start = (it * batch) % 64;
      const xb = data.x.narrow(0, start, batch);
      const yb = data.y.narrow(0, start, batch);
      opt.zero_grad();
      const l = F.binary_cross_entropy_with_logits(net.forward(xb), yb);
      l.backward();
      return l.item();
    });
    // Outside any tidy() scope, so a tensor these leak would stay alive and be counted.
    torch.optim.clip_grad_norm_(net.parameters(), 1.0);
    opt.step();
    sched.step();
    losses.push(loss);
    if (it > 5) assert.equal(torch.memory_stats().tensors, baseline, `tensors grew at step ${it}`);
  }
  const first = losses[0] as number;
  const last = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
  assert.ok(Number.isFinite(last));
  assert.ok(last * 10 <= first, `loss ${first} -> ${last}: not 10x lower`);
  assert.ok(Math.abs((opt.param_groups[0]?.lr as number) - 1e-4) < 1e-12, 'schedule ended at min_lr');

  // Held-out images: the predicted mask matches the square.
  const test_ = makeData(16, 999);
  const acc = torch.no_grad(() => torch.tidy(() => net.forward(test_.x).gt(0).eq(test_.y.gt(0.5)).float().mean().item()));
  assert.ok(acc > 0.97, `held-out pixel accuracy ${acc}`);
  console.log(`loss ${first.toFixed(4)} -> ${last.toFixed(5)}, held-out pixel accuracy ${acc.toFixed(4)}`);

  net.dispose();
  opt.dispose();
  torch.dispose([data, test_]);
});
