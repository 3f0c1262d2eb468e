// The teacher's loss on the teacher_small fixture's own logits and target: every stored loss value
// (loss.*, and loss_b.* with class 3 removed from the target) within relative 1e-5.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { segmentationLoss } from '../../src/train/losses.js';
import { fixture } from '../helpers/fixtures.js';

const load = (file: string) => torch.io.load_safetensors(fixture('teacher_small', file)).tensors;

const WEIGHTS = { dice: [0.5, 0, 0, 1.5], bce: [0.5, 2, 2, 0], focal: [0, 0, 0, 0], all_terms: true };

test('losses: Dice + BCE + focal reproduce teacher_small loss.* and loss_b.* from its logits', () => {
  const outputs = load('outputs.safetensors');
  const inputs = load('inputs.safetensors');
  const logits = outputs.get('high_res_logits.0')!;
  const target = inputs.get('target')!;
  torch.tidy(() => {
    const mask = torch.tensor([1, 1, 1, 0]).view(1, 4, 1, 1);
    for (const [prefix, g] of [
      ['loss', target],
      ['loss_b', target.mul(mask)],
    ] as const) {
      const loss = segmentationLoss(logits, g, WEIGHTS);
      for (const [k, v] of Object.entries(loss)) {
        const ref = outputs.get(`${prefix}.${k}`)!;
        const got = v.reshape(ref.shape);
        const err = got.sub(ref).abs().max().item();
        const limit = 1e-5 * Math.max(ref.abs().max().item(), 1e-30);
        assert.ok(err <= limit || (err === 0 && limit === 0), `${prefix}.${k}: error ${err} > ${limit}`);
      }
    }
  });
  torch.dispose([outputs, inputs]);
});

test('losses: an absent class gives Dice 0; a weight of null counts as 1; zero weights skip the term', () => {
  torch.tidy(() => {
    const gen = new torch.Generator(1);
    const z = torch.randn([2, 3, 8, 8], { generator: gen });
    const g = torch.rand([2, 3, 8, 8], { generator: gen }).mul(torch.tensor([1, 0, 1]).view(1, 3, 1, 1));
    const a = segmentationLoss(z, g, { dice: [1, 1, 1], bce: [null, 1, 1], focal: [0, 0, 0] });
    assert.equal(a.dice_per_class_unweighted.toArray()[1], 0);
    assert.ok(Math.abs(a.bce.item() - a.bce_per_class_unweighted.sum().item()) < 1e-6);
    assert.equal(a.focal.item(), 0);
    const b = segmentationLoss(z, g, { dice: [0, 0, 0], bce: [0, 0, 0], focal: [1, 1, 1], focal_factor: 10 });
    assert.ok(Math.abs(b.total.item() - b.focal_per_class_unweighted_x10.sum().item()) < 1e-5);
  });
});

test('losses: the gradient of the total reaches the logits', () => {
  const z = torch.randn([1, 2, 4, 4]).requires_grad_();
  const g = torch.rand([1, 2, 4, 4]);
  segmentationLoss(z, g, { dice: [1, 1], bce: [1, 1], focal: [1, 1] }).total.backward();
  const grad = z.grad!;
  assert.ok(grad.abs().sum().item() > 0);
  torch.dispose([z, g, grad]);
});
