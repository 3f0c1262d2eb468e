// Ignored pixels in the scores: with valid weights, every per-image score equals the score of the valid pixels alone
// (the image cropped to its valid columns), whatever the ignored pixels hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageScores, iouScores } from '../../src/eval/metrics.js';
import * as torch from '../../src/torch/index.js';

test('scores with valid weights equal the scores of the valid pixels alone', () => {
  torch.tidy(() => {
    const [C, H, W, KEEP] = [3, 12, 16, 9];
    const g = new torch.Generator(8);
    const valid = torch.arange(0, W).lt(KEEP).float().view(1, 1, 1, W).expand([1, 1, H, W]).contiguous();
    const ignored = valid.eq(0).expand([1, C, H, W]);
    // Ignored pixels: predicted everywhere, truth nowhere (all false positives were they counted).
    const probs = torch.rand([1, C, H, W], { generator: g }).masked_fill(ignored, 0.99);
    const gt = torch.rand([1, C, H, W], { generator: g }).gt(0.5).float().masked_fill(ignored, 0);
    const masked = imageScores(probs, gt, valid);
    const crop = imageScores(probs.narrow(3, 0, KEEP).contiguous(), gt.narrow(3, 0, KEEP).contiguous());
    for (const k of ['iou', 'soft_dice', 'accuracy', 'precision', 'recall', 'fscore', 'hausdorff_max', 'hd95_px'] as const) {
      for (const [c, v] of masked[k].entries()) assert.ok(Math.abs(v - crop[k][c]!) < 1e-6, `${k}[${c}]: ${v} vs ${crop[k][c]}`);
    }
    assert.deepEqual(iouScores(probs, gt, valid), crop.iou);
    assert.ok(
      imageScores(probs, gt).iou.every((v, c) => v < crop.iou[c]!),
      'unmasked, the ignored pixels would count',
    );
  });
});
