// binary_cross_entropy_with_logits (weight, pos_weight, reductions) and mse_loss.
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';
import { checkOp, type InputSpec, input, randn, uniform } from '../../helpers/gradcheck.js';
import { Rng } from '../../helpers/prng.js';
import type { Arr } from '../../helpers/reference.js';
import * as R from '../../helpers/reference.js';

const rng = new Rng(0x1055);
const F = torch.nn.functional;
const REDUCTIONS: R.Reduction[] = ['none', 'mean', 'sum'];

describe('F.binary_cross_entropy_with_logits', () => {
  const variants: { name: string; weight?: number[]; posWeight?: number[] }[] = [
    { name: 'plain' },
    { name: 'weight [3,4]', weight: [3, 4] },
    { name: 'weight [4] (broadcast)', weight: [4] },
    { name: 'pos_weight [4] (per class, last dim)', posWeight: [4] },
    { name: 'weight [3,1] and pos_weight [4]', weight: [3, 1], posWeight: [4] },
  ];
  for (const v of variants) {
    for (const reduction of REDUCTIONS) {
      test(`${v.name}, reduction ${reduction}; gradients to logits and (soft) targets`, () => {
        const inputs: InputSpec[] = [uniform(rng, [3, 4], -4, 4), uniform(rng, [3, 4], 0, 1)];
        if (v.weight) inputs.push(uniform(rng, v.weight, 0.2, 2, { grad: false }));
        if (v.posWeight) inputs.push(uniform(rng, v.posWeight, 0.5, 3, { grad: false }));
        const wi = v.weight ? 2 : -1;
        const pi = v.posWeight ? inputs.length - 1 : -1;
        checkOp({
          inputs,
          run: (xs) =>
            F.binary_cross_entropy_with_logits(xs[0] as Tensor, xs[1] as Tensor, {
              weight: wi >= 0 ? xs[wi] : undefined,
              pos_weight: pi >= 0 ? xs[pi] : undefined,
              reduction,
            }),
          ref: (xs) =>
            R.bceWithLogits(xs[0] as Arr, xs[1] as Arr, {
              weight: wi >= 0 ? xs[wi] : undefined,
              posWeight: pi >= 0 ? xs[pi] : undefined,
              reduction,
            }),
        });
      });
    }
  }

  test('hard 0/1 targets, default reduction mean', () => {
    checkOp({
      inputs: [randn(rng, [2, 5], { std: 2 }), input([2, 5], rng.ints(10, 0, 2), { grad: false })],
      run: ([x, y]) => F.binary_cross_entropy_with_logits(x as Tensor, y as Tensor),
      ref: ([x, y]) => R.bceWithLogits(x as Arr, y as Arr),
    });
  });

  test('extreme logits stay finite and exact (log-sum-exp form): [-100, 100, 30, -30] vs [0, 1, 0, 1]', () => {
    checkOp({
      inputs: [input([4], [-100, 100, 30, -30]), input([4], [0, 1, 0, 1], { grad: false })],
      run: ([x, y]) => F.binary_cross_entropy_with_logits(x as Tensor, y as Tensor, { reduction: 'none' }),
      ref: ([x, y]) => R.bceWithLogits(x as Arr, y as Arr, { reduction: 'none' }),
    });
  });
});

describe('F.mse_loss', () => {
  for (const reduction of REDUCTIONS) {
    test(`reduction ${reduction}; gradients to input and target`, () => {
      checkOp({
        inputs: [randn(rng, [2, 3, 4]), randn(rng, [2, 3, 4])],
        run: ([x, y]) => F.mse_loss(x as Tensor, y as Tensor, reduction),
        ref: ([x, y]) => R.mseLoss(x as Arr, y as Arr, reduction),
      });
    });
  }
  test('default reduction is mean', () => {
    checkOp({
      inputs: [randn(rng, [5]), randn(rng, [5])],
      run: ([x, y]) => F.mse_loss(x as Tensor, y as Tensor),
      ref: ([x, y]) => R.mseLoss(x as Arr, y as Arr, 'mean'),
    });
  });
});
