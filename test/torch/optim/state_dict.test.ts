// Optimizer (and scheduler) state survives a checkpoint round trip: a resumed run is bit-identical.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { param } from './helpers.js';

const { nn } = torch;

function makeModel(seed: number): torch.nn.Sequential {
  torch.manual_seed(seed);
  return new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
}

/** What a checkpoint does: tensors to bytes and back (as safetensors would), meta through JSON. */
function roundTrip(sd: torch.optim.OptimizerStateDict): torch.optim.OptimizerStateDict {
  const tensors = new Map<string, torch.Tensor>();
  for (const [k, t] of sd.tensors) tensors.set(k, torch.fromTypedArray(t.toTypedArray(), t.shape, { dtype: t.dtype }));
  return { tensors, meta: JSON.parse(JSON.stringify(sd.meta)) };
}

const bytes = (t: torch.Tensor): Uint8Array => new Uint8Array(t.toTypedArray().buffer);

type Make = (params: torch.Tensor[]) => torch.optim.Optimizer;

const cases: [string, Make, string[]][] = [
  [
    'Adam (amsgrad, L2)',
    (ps) => new torch.optim.Adam(ps, { lr: 1e-2, weight_decay: 1e-3, amsgrad: true }),
    ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'],
  ],
  ['AdamW', (ps) => new torch.optim.AdamW(ps, { lr: 1e-2, betas: [0.8, 0.95] }), ['exp_avg', 'exp_avg_sq']],
  ['SGD (nesterov)', (ps) => new torch.optim.SGD(ps, { lr: 5e-2, momentum: 0.9, nesterov: true, weight_decay: 1e-4 }), ['momentum_buffer']],
];

describe('optimizer state_dict', () => {
  for (const [name, make, names] of cases) {
    test(`${name}: 3 steps, save, load into a fresh optimizer and model copy, 2 more steps: identical`, () => {
      torch.manual_seed(0);
      const x = torch.randn([16, 4]).keep();
      const y = torch.randn([16, 3]).keep();
      const schedule = { warmup_iters: 2, max_iters: 10, min_lr: 1e-4 };

      const trainStep = (model: torch.nn.Sequential, opt: torch.optim.Optimizer, sched: torch.optim.LRScheduler): void =>
        torch.tidy(() => {
          opt.zero_grad();
          const loss = nn.functional.mse_loss(model.forward(x), y);
          loss.backward();
          torch.optim.clip_grad_norm_(model.parameters(), 0.5);
          opt.step();
          sched.step();
        });

      const a = makeModel(1);
      const optA = make(a.parameters());
      const schedA = new torch.optim.WarmupCosine(optA, schedule);
      for (let i = 0; i < 3; i++) trainStep(a, optA, schedA);

      const sd = optA.state_dict();
      const nParams = a.parameters().length;
      assert.deepEqual([...sd.tensors.keys()], Array.from({ length: nParams }, (_, i) => names.map((n) => `state.${i}.${n}`)).flat());
      const saved = roundTrip(sd);
      const savedSched = JSON.parse(JSON.stringify(schedA.state_dict()));
      if (name !== 'SGD (nesterov)') assert.equal(saved.meta.state['0']?.step, 3);
      assert.deepEqual(saved.meta.param_groups[0]?.params, [0, 1, 2, 3]);
      assert.equal(saved.meta.param_groups[0]?.lr, optA.param_groups[0]?.lr);

      // The resumed run: another model (other init) given A's weights, an optimizer built with other
      // hyperparameters, then the saved state.
      const b = makeModel(2);
      b.load_state_dict(a.state_dict());
      const optB = make(b.parameters());
      optB.param_groups[0]!.lr = 123;
      optB.load_state_dict(saved);
      torch.dispose([...saved.tensors.values()]); // load_state_dict copied them
      const schedB = new torch.optim.WarmupCosine(optB, schedule);
      schedB.load_state_dict(savedSched);
      assert.equal(optB.param_groups[0]?.lr, optA.param_groups[0]?.lr);
      // A control that resumes the weights and the schedule but not the optimizer state.
      const c = makeModel(3);
      c.load_state_dict(a.state_dict());
      const optC = make(c.parameters());
      const schedC = new torch.optim.WarmupCosine(optC, schedule);
      schedC.load_state_dict(savedSched);

      for (let i = 0; i < 2; i++) {
        trainStep(a, optA, schedA);
        trainStep(b, optB, schedB);
        trainStep(c, optC, schedC);
      }
      const pa = a.parameters();
      const pb = b.parameters();
      pa.forEach((p, i) => {
        assert.deepEqual(bytes(pb[i] as torch.Tensor), bytes(p), `parameter ${i}`);
      });
      const sa = optA.state_dict();
      const sb = optB.state_dict();
      assert.deepEqual(sb.meta, sa.meta);
      for (const [k, t] of sa.tensors) assert.deepEqual(bytes(sb.tensors.get(k) as torch.Tensor), bytes(t), k);
      // Without the loaded state the run diverges.
      assert.notDeepEqual(bytes(c.parameters()[0] as torch.Tensor), bytes(pa[0] as torch.Tensor));

      for (const m of [a, b, c]) m.dispose();
      for (const o of [optA, optB, optC]) o.dispose();
      x.dispose();
      y.dispose();
    });
  }

  test('load_state_dict checks the group structure and shapes', () => {
    const p = param([1, 2, 3]);
    const q = param([4]);
    const opt = new torch.optim.Adam([p, q]);
    const sd = {
      tensors: new Map<string, torch.Tensor>(),
      meta: { state: {}, param_groups: [{ params: [0], lr: 1 }] },
    };
    assert.throws(() => opt.load_state_dict(sd), /group 0 has 1 parameters/);
    sd.meta.param_groups.push({ params: [1], lr: 1 });
    assert.throws(() => opt.load_state_dict(sd), /2 parameter groups/);
    const bad = torch.zeros([2]).keep();
    const sd2 = {
      tensors: new Map([['state.1.exp_avg', bad]]),
      meta: { state: { '1': { step: 1 } }, param_groups: [{ params: [0, 1], lr: 1 }] },
    };
    assert.throws(() => opt.load_state_dict(sd2), /shape \[2\], its parameter \[1\]/);
    bad.dispose();
    p.dispose();
    q.dispose();
  });
});
