// The reference's per-image scores on cases small enough to compute by hand (soft GT, empty classes),
// and the Evaluator's aggregation: Σ/(N + 0.001), whole images dropped for the max Hausdorff, the
// true HD95's plain mean of defined values, levels, microns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Evaluator } from '../../src/eval/evaluator.js';
import { imageScores, probabilities } from '../../src/eval/metrics.js';
import * as torch from '../../src/torch/index.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const close = (actual: number, expected: number, what: string, tol = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

/** Scores of one image given per-class [H][W] logits and GT. */
function score(logits: number[][][], gt: number[][][]) {
  return torch.tidy(() => {
    const p = probabilities(torch.tensor([logits]));
    return imageScores(p, torch.tensor([gt]));
  });
}

test('scores of a 2x2 image with a soft GT pixel, by hand', () => {
  // pr = [[1, 0], [1, 0]]; g = [[1, 0.5], [0, 0]]: tp = 1, Σg = 1.5, Σpr = 2.
  const s = score(
    [
      [
        [2, -2],
        [3, -1],
      ],
    ],
    [
      [
        [1, 0.5],
        [0, 0],
      ],
    ],
  );
  close(s.iou[0]!, 1 / (1.5 + 2 - 1), 'IoU');
  close(s.precision[0]!, 1 / 2, 'precision');
  close(s.recall[0]!, 1 / 1.5, 'recall');
  close(s.fscore[0]!, 2 / (2 + 0.5 + 1), 'F-score'); // 2tp / (2tp + fn + fp)
  close(s.accuracy[0]!, 2 / 4, 'accuracy'); // the 0.5 pixel never matches
  const [p00, p01, p10, p11] = [2, -2, 3, -1].map(sigmoid) as [number, number, number, number];
  const dice = (2 * (p00 + 0.5 * p01)) / (1 + 0.25 + p00 ** 2 + p01 ** 2 + p10 ** 2 + p11 ** 2);
  close(s.soft_dice[0]!, dice, 'soft Dice (raw probabilities, not thresholded)');
  // Distances use g > 0.5, so the 0.5 pixel is outside: pred {(0,0), (1,0)} vs GT {(0,0)}.
  assert.equal(s.hausdorff_max[0], 1);
  // Boundary distances pooled: 0, 1 (pred) and 0 (GT); numpy's 95th percentile of [0, 0, 1] is 0.9.
  close(s.hd95_px[0]!, 0.9, 'HD95', 1e-12);
});

test('empty/empty, GT-only-empty and prediction-only-empty classes', () => {
  const neg = [
    [-1, -1, -1],
    [-1, -1, -1],
    [-1, -1, -1],
  ];
  const centre = [
    [-1, -1, -1],
    [-1, 1, -1],
    [-1, -1, -1],
  ];
  const zeros = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const dot = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 1],
  ];
  const s = score([neg, centre, neg], [zeros, zeros, dot]);
  // Class 0, empty in both: IoU 1 (eps/eps), Dice 0, every other score 1, distances 0.
  assert.deepEqual(
    [s.iou[0], s.soft_dice[0], s.accuracy[0], s.precision[0], s.recall[0], s.fscore[0], s.hausdorff_max[0], s.hd95_px[0]],
    [1, 0, 1, 1, 1, 1, 0, 0],
  );
  // Class 1, empty GT: nothing is right but recall is eps/eps = 1; distances undefined.
  close(s.iou[1]!, 0, 'IoU, GT empty');
  close(s.precision[1]!, 0, 'precision, GT empty');
  assert.equal(s.recall[1], 1);
  close(s.fscore[1]!, 0, 'F-score, GT empty');
  close(s.accuracy[1]!, 8 / 9, 'accuracy, GT empty');
  assert.equal(s.soft_dice[1], 0);
  assert.ok(Number.isNaN(s.hausdorff_max[1]!) && Number.isNaN(s.hd95_px[1]!));
  // Class 2, empty prediction: precision is eps/eps = 1, recall 0.
  assert.equal(s.precision[2], 1);
  close(s.recall[2]!, 0, 'recall, prediction empty');
  assert.ok(Number.isNaN(s.hausdorff_max[2]!) && Number.isNaN(s.hd95_px[2]!));
});

/** [H][W] plane of a 12x12 image from a predicate. */
const plane = (inside: (y: number, x: number) => boolean, on = 1, off = 0) =>
  Array.from({ length: 12 }, (_, y) => Array.from({ length: 12 }, (_, x) => (inside(y, x) ? on : off)));
const square = (lo: number, hi: number) => (y: number, x: number) => y >= lo && y <= hi && x >= lo && x <= hi;
const nothing = () => false;
const logitsOf = (inside: (y: number, x: number) => boolean) => plane(inside, 5, -5);

function addImage(ev: Evaluator, logits: number[][][], gt: number[][][], level?: number) {
  torch.tidy(() => ev.add(torch.tensor([logits]), torch.tensor([gt]), level));
}

test('Evaluator: reference means Σ/(N + 0.001), whole images dropped for hausdorff_max, HD95 mean of defined values', () => {
  const ev = new Evaluator({ mpp: 0.25 });
  // Image A: class 0 exact; class 1 has an empty GT (its distances are NaN).
  addImage(ev, [logitsOf(square(2, 7)), logitsOf((y, x) => y === 5 && x === 5)], [plane(square(2, 7)), plane(nothing)]);
  // Image B: class 0 predicts the 6x6 GT square shrunk by 1 px; class 1 exact (one row).
  addImage(ev, [logitsOf(square(3, 6)), logitsOf((y) => y === 0)], [plane(square(2, 7)), plane((y) => y === 0)]);
  const s = ev.summary();
  assert.equal(s.num_imgs, 2);
  close(s.MIoU_0_L0 as number, (1 + 16 / 36) / 2.001, 'MIoU class 0');
  close(s.MIoU_1_L0 as number, (0 + 1) / 2.001, 'MIoU class 1');
  close(s.MIoU_mean_L0 as number, ((1 + 16 / 36) / 2.001 + 1 / 2.001) / 2, 'MIoU mean');
  close((s.precision as number[])[1]!, (0 + 1) / 2.001, 'precision class 1');
  close((s.recall as number[])[0]!, (1 + 16 / 36) / 2.001, 'recall class 0');
  // Image A holds a NaN, so only image B counts, for both classes: sqrt(2) (shrunk square's corner) and 0.
  assert.deepEqual(s.hausdorff_max, [Math.SQRT2 / 1.001, 0]);
  assert.equal(s.hausdorff_max_mean, Math.SQRT2 / 1.001 / 2);
  // True HD95 per class over the images where it is defined: class 0 (0 + sqrt(2)) / 2, class 1 only B: 0.
  // (Image B class 0: 4 of the 32 boundary points are corners at sqrt(2), more than 5%.)
  assert.deepEqual(s.hd95_true_px, [Math.SQRT2 / 2, 0]);
  assert.equal(s.hd95_true_px_mean, Math.SQRT2 / 4);
  assert.deepEqual(s.hd95_true_um, [(Math.SQRT2 / 2) * 0.25, 0]);
  assert.equal(s.hd95_true_um_mean, (Math.SQRT2 / 4) * 0.25);
  assert.equal(ev.images.length, 2);
  assert.ok(Number.isNaN(ev.images[0]!.hausdorff_max[1]!));
});

test('Evaluator: pooled IoU and Dice from the summed overlaps, by hand', () => {
  const ev = new Evaluator();
  // Image A: class 0 exact (36 px); class 1 predicts 1 px on an empty GT; class 2 empty in both.
  addImage(
    ev,
    [logitsOf(square(2, 7)), logitsOf((y, x) => y === 5 && x === 5), logitsOf(nothing)],
    [plane(square(2, 7)), plane(nothing), plane(nothing)],
  );
  // Image B: class 0 predicts a 16-px square inside the 36-px GT; class 1 exact (a 12-px row); class 2 empty in both.
  addImage(
    ev,
    [logitsOf(square(3, 6)), logitsOf((y) => y === 0), logitsOf(nothing)],
    [plane(square(2, 7)), plane((y) => y === 0), plane(nothing)],
  );
  const s = ev.summary();
  // Class 0: I = 36 + 16, T = 72, P = 52. Class 1: I = 12, T = 12, P = 13. Class 2: nothing anywhere.
  const iou = [52 / (72 + 52 - 52), 12 / (12 + 13 - 12), Number.NaN];
  const dice = [(2 * 52) / (72 + 52), (2 * 12) / (12 + 13), Number.NaN];
  assert.deepEqual(s.pooled_iou, iou);
  assert.deepEqual(s.pooled_dice, dice);
  assert.equal(s.pooled_iou_mean, (iou[0]! + iou[1]!) / 2);
  assert.equal(s.pooled_dice_mean, (dice[0]! + dice[1]!) / 2);
  // The reference's per-image means on class 2, empty everywhere: Dice 0, IoU 1 (what the pooled n/a replaces).
  assert.equal((s.dice as number[])[2], 0);
  close(s.MIoU_2_L0 as number, 2 / 2.001, 'per-image IoU of the empty class');
});

test('Evaluator: no micron keys without an mpp; hausdorff_max is NaN when every image has a NaN', () => {
  const ev = new Evaluator();
  addImage(ev, [logitsOf(square(2, 7))], [plane(nothing)]);
  const s = ev.summary();
  assert.equal(s.hd95_true_um, undefined);
  assert.ok((s.hausdorff_max as number[]).every(Number.isNaN));
  assert.ok(Number.isNaN(s.hd95_true_px_mean as number));
});

test('Evaluator levels: every level keeps its IoU, the last level alone gets the other scores', () => {
  const ev = new Evaluator({ levels: 2 });
  const gt = [plane(square(2, 7))];
  addImage(ev, [logitsOf(square(3, 6))], gt, 0);
  addImage(ev, [logitsOf(square(2, 7))], gt); // default: the last level
  const s = ev.summary();
  close(s.MIoU_0_L0 as number, 16 / 36 / 1.001, 'level 0 IoU');
  close(s.MIoU_0_L1 as number, 1 / 1.001, 'level 1 IoU');
  close((s.recall as number[])[0]!, 1 / 1.001, 'recall from the last level (level 0 would give 16/36)');
  assert.equal(s.num_imgs, 1);
  assert.throws(() => addImage(ev, [logitsOf(nothing)], gt, 2), /level 2 is not in \[0, 2\)/);
  const onlyLast = new Evaluator({ levels: 2 });
  addImage(onlyLast, [logitsOf(nothing)], gt);
  assert.throws(() => onlyLast.summary(), /no image was scored at level 0/);
  assert.throws(() => new Evaluator().summary(), /no image was scored/);
});

test('Evaluator refuses batches, shape mismatches and a change of class count', () => {
  const ev = new Evaluator();
  torch.tidy(() => {
    assert.throws(() => ev.add(torch.zeros([2, 1, 4, 4]), torch.zeros([2, 1, 4, 4])), /batch size 1/);
    assert.throws(() => ev.add(torch.zeros([1, 2, 4, 4]), torch.zeros([1, 2, 4, 5])), /must both be \[1,C,H,W\]/);
    ev.add(torch.zeros([1, 2, 4, 4]), torch.zeros([1, 2, 4, 4]));
    assert.throws(() => ev.add(torch.zeros([1, 3, 4, 4]), torch.zeros([1, 3, 4, 4])), /3 classes after 2/);
  });
});
