// Adam, AdamW and SGD against float64 re-implementations of PyTorch's single-tensor update formulas.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { assertClose, fakeGrad, param, setGrad } from './helpers.js';

const N = 6;
const STEPS = 5;
const P0 = [0.5, -1.25, 2.0, -0.3, 0.05, 1.5];

interface AdamRef {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  amsgrad: boolean;
  decoupled: boolean;
  maximize: boolean;
}

/** PyTorch's _single_tensor_adam in float64 (decoupled: AdamW). */
function refAdam(p0: number[], grads: number[][], h: AdamRef): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const vmax = p.map(() => 0);
  grads.forEach((g0, k) => {
    const t = k + 1;
    const bc1 = 1 - h.beta1 ** t;
    const bc2 = 1 - h.beta2 ** t;
    for (let i = 0; i < p.length; i++) {
      let g = (g0[i] as number) * (h.maximize ? -1 : 1);
      if (h.weight_decay !== 0) {
        if (h.decoupled) p[i] = (p[i] as number) * (1 - h.lr * h.weight_decay);
        else g += h.weight_decay * (p[i] as number);
      }
      m[i] = (m[i] as number) + (1 - h.beta1) * (g - (m[i] as number));
      v[i] = h.beta2 * (v[i] as number) + (1 - h.beta2) * g * g;
      vmax[i] = Math.max(vmax[i] as number, v[i] as number);
      const vv = h.amsgrad ? (vmax[i] as number) : (v[i] as number);
      const denom = Math.sqrt(vv) / Math.sqrt(bc2) + h.eps;
      p[i] = (p[i] as number) - (h.lr / bc1) * ((m[i] as number) / denom);
    }
  });
  return p;
}

interface SGDRef {
  lr: number;
  momentum: number;
  dampening: number;
  weight_decay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** PyTorch's _single_tensor_sgd in float64. */
function refSGD(p0: number[], grads: number[][], h: SGDRef): number[] {
  const p = [...p0];
  let buf: number[] | undefined;
  for (const g0 of grads) {
    let g = g0.map((x, i) => (h.maximize ? -x : x) + h.weight_decay * (p[i] as number));
    if (h.momentum !== 0) {
      const b: number[] = buf === undefined ? [...g] : buf.map((x, i) => h.momentum * x + (1 - h.dampening) * (g[i] as number));
      buf = b;
      g = h.nesterov ? g.map((x, i) => x + h.momentum * (b[i] as number)) : b;
    }
    for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) - h.lr * (g[i] as number);
  }
  return p;
}

/** Runs `steps` updates of a fresh optimizer on one parameter with the given gradients. */
function runEngine(dtype: torch.DType, grads: number[][], make: (p: torch.Tensor) => torch.optim.Optimizer): number[] {
  const p = param(P0, dtype);
  const opt = make(p);
  for (const g of grads) {
    setGrad(p, g);
    opt.step();
  }
  const out = p.toArray();
  opt.dispose();
  p.dispose();
  return out;
}

const gradsOf = (scale: number): number[][] => Array.from({ length: STEPS }, (_, k) => fakeGrad(k + 1, N, scale));

const ADAM_BASE: AdamRef = {
  lr: 1e-2,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weight_decay: 0,
  amsgrad: false,
  decoupled: false,
  maximize: false,
};

const adamCases: [string, Partial<AdamRef>, number][] = [
  ['defaults', {}, 1],
  ['L2 weight decay', { weight_decay: 0.1 }, 1],
  ['amsgrad with shrinking gradients', { amsgrad: true, beta2: 0.9 }, 1],
  // Small gradients and a large eps: adding eps after sqrt(v)/sqrt(bc2) (not before) matters here.
  ['eps after the bias-corrected sqrt', { eps: 1e-3, lr: 0.1 }, 1e-3],
  ['maximize, other betas', { maximize: true, beta1: 0.8, beta2: 0.99, lr: 0.05 }, 1],
];

describe('Adam', () => {
  for (const [name, over, scale] of adamCases) {
    const h = { ...ADAM_BASE, ...over };
    const grads = over.amsgrad ? gradsOf(scale).map((g, k) => g.map((x) => x / (k + 1) ** 2)) : gradsOf(scale);
    const make = (p: torch.Tensor) =>
      new torch.optim.Adam([p], {
        lr: h.lr,
        betas: [h.beta1, h.beta2],
        eps: h.eps,
        weight_decay: h.weight_decay,
        amsgrad: h.amsgrad,
        maximize: h.maximize,
      });
    test(`${name}: float64 matches the reference to 1e-12`, () => {
      assertClose(runEngine('float64', grads, make), refAdam(P0, grads, h), 1e-12, name);
    });
    test(`${name}: float32 matches the reference to 1e-6`, () => {
      assertClose(runEngine('float32', grads, make), refAdam(P0, grads, h), 1e-6, name);
    });
  }

  test('the first step moves every element by lr against its gradient', () => {
    const g = fakeGrad(1, N);
    const out = runEngine('float64', [g], (p) => new torch.optim.Adam([p], { lr: 0.01 }));
    out.forEach((x, i) => {
      assert.ok(Math.abs(x - (P0[i] as number) + 0.01 * Math.sign(g[i] as number)) < 1e-8);
    });
  });

  test('amsgrad keeps max_exp_avg_sq, plain Adam does not', () => {
    const p = param(P0);
    const a = new torch.optim.Adam([p], { amsgrad: true });
    setGrad(p, fakeGrad(1, N));
    a.step();
    assert.deepEqual([...(a.state.get(p)?.tensors.keys() ?? [])], ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    a.dispose();
    const b = new torch.optim.Adam([p]);
    b.step();
    assert.deepEqual([...(b.state.get(p)?.tensors.keys() ?? [])], ['exp_avg', 'exp_avg_sq']);
    assert.equal(b.state.get(p)?.step, 1);
    b.dispose();
    p.dispose();
  });

  test('rejects invalid hyperparameters', () => {
    const p = param(P0);
    assert.throws(() => new torch.optim.Adam([p], { lr: -1 }), /learning rate/);
    assert.throws(() => new torch.optim.Adam([p], { betas: [1, 0.999] }), /beta/);
    assert.throws(() => new torch.optim.Adam([p], { eps: -1 }), /epsilon/);
    assert.throws(() => new torch.optim.Adam([]), /empty parameter list/);
    assert.throws(() => new torch.optim.Adam([{ params: [p] }, { params: [p] }]), /more than one parameter group/);
    p.dispose();
  });
});

describe('AdamW', () => {
  const cases: [string, Partial<AdamRef>][] = [
    ['default weight decay 1e-2', {}],
    ['weight decay 0.3, amsgrad', { weight_decay: 0.3, amsgrad: true }],
  ];
  for (const [name, over] of cases) {
    const h: AdamRef = { ...ADAM_BASE, weight_decay: 1e-2, decoupled: true, ...over };
    const grads = gradsOf(1);
    const opts: Partial<torch.optim.AdamOptions> = { lr: h.lr, amsgrad: h.amsgrad };
    if (over.weight_decay !== undefined) opts.weight_decay = over.weight_decay;
    const make = (p: torch.Tensor) => new torch.optim.AdamW([p], opts);
    test(`${name}: float64 matches the reference to 1e-12`, () => {
      assertClose(runEngine('float64', grads, make), refAdam(P0, grads, h), 1e-12, name);
    });
    test(`${name}: float32 matches the reference to 1e-6`, () => {
      assertClose(runEngine('float32', grads, make), refAdam(P0, grads, h), 1e-6, name);
    });
  }

  test('the default weight_decay is 1e-2, and 1e-2 only for AdamW', () => {
    const p = param(P0);
    const w = new torch.optim.AdamW([p]);
    const a = new torch.optim.Adam([p]);
    assert.equal(w.param_groups[0]?.weight_decay, 1e-2);
    assert.equal(a.param_groups[0]?.weight_decay, 0);
    p.dispose();
  });

  test('decoupled decay differs from Adam with L2: a zero gradient shrinks p by exactly (1 - lr*wd)', () => {
    const zero = [P0.map(() => 0)];
    const lr = 0.01;
    const wd = 0.5;
    const adamw = runEngine('float64', zero, (p) => new torch.optim.AdamW([p], { lr, weight_decay: wd }));
    const adamL2 = runEngine('float64', zero, (p) => new torch.optim.Adam([p], { lr, weight_decay: wd }));
    // AdamW: the decay scales each weight; the Adam update of a zero gradient is zero.
    assertClose(
      adamw,
      P0.map((x) => x * (1 - lr * wd)),
      1e-15,
      'AdamW',
    );
    // Adam + L2: the decay goes through the normalised Adam step, so every weight moves by ~lr
    // towards zero whatever its size.
    adamL2.forEach((x, i) => {
      const p0 = P0[i] as number;
      assert.ok(Math.abs(x - (p0 - lr * Math.sign(p0))) < 1e-6, `Adam-L2 element ${i}: ${x}`);
    });
    // The two differ for every element but the one where lr*wd*|p| happens to equal lr (|p| = 2).
    const differs = adamw.filter((x, i) => Math.abs(x - (adamL2[i] as number)) > 1e-4).length;
    assert.equal(differs, N - 1);
  });
});

const SGD_BASE: SGDRef = { lr: 0.1, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false };
const sgdCases: [string, Partial<SGDRef>][] = [
  ['plain', {}],
  ['momentum, dampening, weight decay', { momentum: 0.9, dampening: 0.1, weight_decay: 1e-2 }],
  ['nesterov with weight decay', { momentum: 0.9, nesterov: true, weight_decay: 1e-2 }],
  ['maximize with momentum', { momentum: 0.5, maximize: true, lr: 0.03 }],
];

describe('SGD', () => {
  for (const [name, over] of sgdCases) {
    const h = { ...SGD_BASE, ...over };
    const grads = gradsOf(1);
    const make = (p: torch.Tensor) => new torch.optim.SGD([p], { ...over, lr: h.lr });
    test(`${name}: float64 matches the reference to 1e-12`, () => {
      assertClose(runEngine('float64', grads, make), refSGD(P0, grads, h), 1e-12, name);
    });
    test(`${name}: float32 matches the reference to 1e-6`, () => {
      assertClose(runEngine('float32', grads, make), refSGD(P0, grads, h), 1e-6, name);
    });
  }

  test('the first momentum step initialises the buffer to the gradient (no dampening applied)', () => {
    const p = param(P0, 'float64');
    const opt = new torch.optim.SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    const g = fakeGrad(1, N);
    setGrad(p, g);
    opt.step();
    const buf = opt.state.get(p)?.tensors.get('momentum_buffer');
    assert.ok(buf !== undefined);
    assertClose(buf.toArray(), g, 1e-15, 'momentum_buffer');
    opt.dispose();
    p.dispose();
  });

  test('nesterov needs momentum and zero dampening', () => {
    const p = param(P0);
    assert.throws(() => new torch.optim.SGD([p], { nesterov: true }), /Nesterov/);
    assert.throws(() => new torch.optim.SGD([p], { nesterov: true, momentum: 0.9, dampening: 0.1 }), /Nesterov/);
    p.dispose();
  });
});

describe('Optimizer', () => {
  test('parameters without a gradient are skipped and get no state', () => {
    const a = param(P0);
    const b = param(P0);
    const opt = new torch.optim.Adam([a, b], { lr: 0.1 });
    setGrad(a, fakeGrad(1, N));
    opt.step();
    assert.ok(opt.state.has(a));
    assert.ok(!opt.state.has(b));
    assert.deepEqual(b.toArray(), Array.from(Float32Array.from(P0)));
    assert.notDeepEqual(a.toArray(), b.toArray());
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  test('parameter groups keep their own hyperparameters', () => {
    const a = param(P0, 'float64');
    const b = param(P0, 'float64');
    const opt = new torch.optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    assert.equal(opt.param_groups[0]?.lr, 0.1);
    assert.equal(opt.param_groups[1]?.lr, 0.5);
    const g = fakeGrad(1, N);
    setGrad(a, g);
    setGrad(b, g);
    opt.step();
    assertClose(
      a.toArray(),
      P0.map((x, i) => x - 0.1 * (g[i] as number)),
      1e-15,
      'group 0',
    );
    assertClose(
      b.toArray(),
      P0.map((x, i) => x - 0.5 * (g[i] as number)),
      1e-15,
      'group 1',
    );
    a.dispose();
    b.dispose();
  });

  test('zero_grad sets gradients to undefined, or to zeros with set_to_none=false', () => {
    const p = param(P0);
    const opt = new torch.optim.SGD([p], { lr: 0.1 });
    setGrad(p, fakeGrad(1, N));
    opt.zero_grad(false);
    assert.deepEqual(
      torch.tidy(() => p.grad?.toArray()),
      P0.map(() => 0),
    );
    opt.zero_grad();
    assert.equal(p.grad, undefined);
    p.dispose();
  });

  test('step() disposes every temporary and records no autograd history', () => {
    const p = param(P0);
    const opts: torch.optim.Optimizer[] = [
      new torch.optim.Adam([p], { weight_decay: 0.1, amsgrad: true, maximize: true }),
      new torch.optim.AdamW([p]),
      new torch.optim.SGD([p], { momentum: 0.9, nesterov: true, weight_decay: 0.1 }),
    ];
    setGrad(p, fakeGrad(1, N));
    for (const opt of opts) {
      opt.step(); // creates the state
      const before = torch.memory_stats().tensors;
      for (let k = 0; k < 3; k++) opt.step();
      assert.equal(torch.memory_stats().tensors, before, opt.constructor.name);
      assert.ok(p.is_leaf);
      assert.equal(p.grad_fn, undefined);
      opt.dispose();
    }
    p.dispose();
  });

  test('step(closure) evaluates the closure with gradients enabled and returns its loss', () => {
    const p = param([1, 2, 3], 'float64');
    const opt = new torch.optim.SGD([p], { lr: 0.1 });
    const loss = torch.no_grad(() =>
      opt.step(() =>
        torch.tidy(() => {
          opt.zero_grad();
          const l = p.square().sum();
          l.backward();
          return l.item();
        }),
      ),
    );
    assert.equal(loss, 14);
    assertClose(p.toArray(), [0.8, 1.6, 2.4], 1e-15, 'after step');
    p.dispose();
  });
});
