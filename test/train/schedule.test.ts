// The learning rate the training loop uses at chosen iterations, from the optimizer and schedule it
// builds out of a config: linear warm-up over warmup_period, then cosine to 0 at max_iterations,
// with hand-computed values; no warm-up when the reference's `warup` is off; a resumed schedule
// continues where it stopped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.js';
import * as torch from '../../src/torch/index.js';
import { trainingOptimizer, trainingSchedule } from '../../src/train/loop.js';

const param = () => new torch.nn.Parameter(torch.zeros([2]));

/** The lr of every iteration 0..n-1 as the loop sees it: read before the update, then schedule.step(). */
function lrs(yaml: string, n: number): number[] {
  const cfg = parseConfig(yaml);
  const opt = trainingOptimizer(cfg, [param()]);
  const schedule = trainingSchedule(cfg, opt);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(opt.param_groups[0]!.lr);
    schedule.step();
  }
  return out;
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('warm-up then cosine: values at chosen iterations', () => {
  const lr = lrs('train: {base_lr: 0.001, warmup_period: 10, max_iterations: 110, warup: true}', 111);
  close(lr[0]!, 0.001 / 11, 'first warm-up iteration');
  close(lr[4]!, (0.001 * 5) / 11, 'iteration 4');
  close(lr[9]!, (0.001 * 10) / 11, 'last warm-up iteration');
  close(lr[10]!, 0.001, 'peak at warmup_period');
  close(lr[35]!, (0.001 * (1 + Math.cos(Math.PI / 4))) / 2, 'a quarter into the cosine');
  close(lr[60]!, 0.0005, 'half-way');
  close(lr[109]!, (0.001 * (1 + Math.cos((Math.PI * 99) / 100))) / 2, 'last iteration');
  close(lr[110]!, 0, 'at max_iterations');
});

test('the reference configs: 50 warm-up iterations, 5000 in all, base lr 1e-4', () => {
  const lr = lrs('train: {base_lr: 0.0001}', 5000);
  close(lr[0]!, 0.0001 / 51, 'iteration 0');
  close(lr[50]!, 0.0001, 'iteration 50');
  close(lr[2525]!, 0.00005, 'half-way');
});

test('warup: false means no warm-up; the AdamW weight decay is train.weight_decay', () => {
  const lr = lrs('train: {base_lr: 0.01, warup: false, warmup_period: 10, max_iterations: 20, weight_decay: 0.1}', 21);
  close(lr[0]!, 0.01, 'iteration 0');
  close(lr[10]!, 0.005, 'half-way');
  const opt = trainingOptimizer(parseConfig('train: {weight_decay: 0.1}'), [param()]);
  assert.ok(opt instanceof torch.optim.AdamW);
  assert.equal(opt.param_groups[0]!.weight_decay, 0.1);
});

test('a schedule restored from its state continues with the same values', () => {
  const cfg = parseConfig('train: {base_lr: 0.001, warmup_period: 5, max_iterations: 30}');
  const opt = trainingOptimizer(cfg, [param()]);
  const schedule = trainingSchedule(cfg, opt);
  for (let i = 0; i < 12; i++) schedule.step();
  const state = JSON.parse(JSON.stringify(schedule.state_dict()));
  const opt2 = trainingOptimizer(cfg, [param()]);
  trainingSchedule(cfg, opt2).load_state_dict(state);
  assert.equal(opt2.param_groups[0]!.lr, opt.param_groups[0]!.lr);
  assert.equal(opt2.param_groups[0]!.lr, lrs('train: {base_lr: 0.001, warmup_period: 5, max_iterations: 30}', 13)[12]);
});

test('a warm-up longer than the run is a config error naming both keys', () => {
  assert.throws(() => parseConfig('train: {warmup_period: 50, max_iterations: 20}'), /train\.warmup_period.*train\.max_iterations/);
});

test("scheduler.type 'multistep': warm-up, then the lr times gamma at each milestone (iterations)", () => {
  const lr = lrs("train: {base_lr: 0.1, warmup_period: 4, milestones: [10, 15], gamma: 0.5, scheduler: {type: 'multistep'}}", 20);
  close(lr[0]!, 0.1 / 5, 'first warm-up iteration');
  close(lr[3]!, (0.1 * 4) / 5, 'last warm-up iteration');
  for (const i of [4, 9]) close(lr[i]!, 0.1, `iteration ${i}`);
  for (const i of [10, 14]) close(lr[i]!, 0.05, `iteration ${i}`);
  for (const i of [15, 19]) close(lr[i]!, 0.025, `iteration ${i}`);
});

/** The parameter after one step from 1 with gradient 0.5, under the optimizer a config names (lr 0.1, decay 0.2). */
function oneStep(train: string): { kind: string; value: number } {
  const p = new torch.nn.Parameter(torch.ones([1]));
  const opt = trainingOptimizer(parseConfig(`train: {base_lr: 0.1, weight_decay: 0.2, ${train}}`), [p]);
  p.grad = torch.full([1], 0.5);
  opt.step();
  return { kind: opt.constructor.name, value: p.item() };
}

test('the optimizer: AdamW when train.AdamW (the reference), else train.optim; each steps as its formula says', () => {
  const eps = 1e-8;
  // Parameters are float32: equal to the formula within its resolution.
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-7, `${what}: ${a} vs ${b}`);
  // AdamW: decoupled decay p(1 - lr·wd), then the first Adam step lr·g/(|g| + eps).
  const adamw = oneStep('AdamW: true');
  assert.equal(adamw.kind, 'AdamW');
  near(adamw.value, 1 * (1 - 0.1 * 0.2) - (0.1 * 0.5) / (0.5 + eps), 'AdamW');
  // Adam: the decay joins the gradient (g + wd·p = 0.7), then the same normalised step.
  const adam = oneStep('AdamW: false, optim: adam');
  assert.equal(adam.kind, 'Adam');
  near(adam.value, 1 - (0.1 * 0.7) / (0.7 + eps), 'Adam');
  // SGD with momentum 0.9: the first step is plain, lr·(g + wd·p).
  const sgd = oneStep('AdamW: false, optim: sgd');
  assert.equal(sgd.kind, 'SGD');
  near(sgd.value, 1 - 0.1 * 0.7, 'SGD');
  assert.throws(() => parseConfig('train: {AdamW: true, optim: sgd}'), /'train\.optim' has no effect while 'train\.AdamW' is true/);
});
