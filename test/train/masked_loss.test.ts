// Ignored pixels in the losses: with valid weights, Dice, BCE and focal equal the same losses computed on the valid
// pixels alone (by the unmasked functions on the valid columns, and by hand in plain arithmetic), whatever the ignored
// pixels hold, and the ignored logits get exactly zero gradient.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { segmentationLoss } from '../../src/train/losses.js';

const [B, C, H, W, KEEP] = [2, 4, 5, 8, 5];
const ALL = { dice: [1, 1, 1, 1], bce: [1, 1, 1, 1], focal: [1, 1, 1, 1], all_terms: true };

/** Logits and soft targets; columns >= KEEP are ignored and hold extreme values; class 3 is set only there. */
function data() {
  const g = new torch.Generator(5);
  const logits = torch.randn([B, C, H, W], { generator: g }).mul(2);
  const cols = torch.arange(0, W).view(1, 1, 1, W);
  const valid = cols.lt(KEEP).float().expand([B, 1, H, W]).contiguous();
  const ignored = valid.eq(0);
  const wild = logits.masked_fill(ignored, 40);
  const target = torch.rand([B, C, H, W], { generator: g }).gt(0.6).float();
  const classMask = torch.tensor([1, 1, 1, 0]).view(1, C, 1, 1);
  const t = target
    .mul(classMask)
    .add(target.mul(ignored.float()).mul(torch.tensor([0, 0, 0, 1]).view(1, C, 1, 1)))
    .clamp(0, 1);
  return { logits: wild, target: t, valid };
}

test('masked losses equal the losses over the valid pixels alone; a class present only where ignored scores 0 Dice', () => {
  torch.tidy(() => {
    const { logits, target, valid } = data();
    const masked = segmentationLoss(logits, target, ALL, valid);
    const plain = segmentationLoss(logits.narrow(3, 0, KEEP), target.narrow(3, 0, KEEP), ALL);
    for (const k of ['dice_per_class_unweighted', 'bce_per_class_unweighted', 'focal_per_class_unweighted_x10'] as const) {
      // Float32 sums in another order: relative 1e-6.
      const err = masked[k].sub(plain[k]).abs().div(plain[k].abs().clamp(1)).max().item();
      assert.ok(err < 1e-6, `${k}: ${masked[k].toArray()} vs ${plain[k].toArray()}`);
    }
    assert.equal(masked.dice_per_class_unweighted.toArray()[3], 0, 'class 3 is only in the ignored pixels');
    // By hand for class 0: BCE = mean over valid pixels of softplus(z) - z·g; Dice = 1 - (2Σpg + 1) / (Σp + Σg + 1).
    const z = logits.select(1, 0).narrow(2, 0, KEEP).contiguous().toArray().flat(3) as number[];
    const gt = target.select(1, 0).narrow(2, 0, KEEP).contiguous().toArray().flat(3) as number[];
    let [bce, pg, p, s] = [0, 0, 0, 0];
    z.forEach((v, i) => {
      const gv = gt[i] as number;
      bce += Math.max(v, 0) - v * gv + Math.log1p(Math.exp(-Math.abs(v)));
      const pv = 1 / (1 + Math.exp(-v));
      [pg, p, s] = [pg + pv * gv, p + pv, s + gv];
    });
    const got = (t: torch.Tensor) => t.toArray()[0] as number;
    assert.ok(Math.abs(got(masked.bce_per_class_unweighted) - bce / z.length) < 1e-5);
    assert.ok(Math.abs(got(masked.dice_per_class_unweighted) - (1 - (2 * pg + 1) / (p + s + 1))) < 1e-5);
  });
});

test('ignored logits get exactly zero gradient; valid ones do not', () => {
  const { logits, target, valid } = torch.tidy(() => data());
  const z = logits.detach().requires_grad_(true);
  try {
    torch.tidy(() => segmentationLoss(z, target, ALL, valid).total.backward());
    torch.tidy(() => {
      const grad = z.grad as torch.Tensor;
      const ignored = valid.eq(0).expand([B, C, H, W]);
      assert.equal(grad.masked_select(ignored).abs().max().item(), 0);
      assert.ok(grad.masked_select(ignored.logical_not()).abs().min().item() > 0);
    });
  } finally {
    torch.dispose([logits, target, valid, z]);
  }
});

test('a valid mask of the wrong shape is refused', () => {
  torch.tidy(() => {
    const { logits, target } = data();
    assert.throws(() => segmentationLoss(logits, target, ALL, torch.ones([B, C, H, W])), /valid \[2,4,5,8\] must be \[2, 1, 5, 8\]/);
  });
});
