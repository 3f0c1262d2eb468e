// The teacher's segmentation losses (spec §6; lib/utils/net_utils.py). Every class channel is an
// independent sigmoid logit; each loss gives one term per class, weighted by the config's list
// (null = 1) and summed:
//   Dice   smp DiceLoss('binary', smooth 1) on sigmoid(z): sums over the whole batch and all pixels of a
//          class, loss_c = 1 - (2 Σpg + 1) / (Σ(p + g) + 1) (the ratio clamped >= 1e-7), 0 when the class
//          is absent from the whole batch;
//   BCE    mean BCE-with-logits over [B, H, W] (soft targets);
//   focal  smp FocalLoss('binary'): mean((1 - e^-bce)^2 * bce), times focal_factor (10).
// With valid weights v [B, 1, H, W] (a dataset with ignored pixels; data/loader.ts), an ignored pixel (v = 0)
// contributes nothing and gets no gradient: Dice takes p·v and g·v (a class is present when Σg·v > 0); BCE and
// focal are Σv·l / Σv per class, the mean over the batch's valid pixels (0 when none is valid). Without v the
// terms are computed exactly as above.
import * as torch from '../torch/index.js';

type Tensor = torch.Tensor;
const F = torch.nn.functional;

/** Per-class weights (mask_iou_weight, mask_bce_weight, mask_focal_weight); null means 1. */
export interface SegLossOptions {
  dice: readonly (number | null)[];
  bce: readonly (number | null)[];
  focal: readonly (number | null)[];
  /** Multiplies the focal terms (the reference's default 10). */
  focal_factor?: number;
  dice_smooth?: number;
  dice_eps?: number;
  /** Compute every per-class term even for a loss whose weights are all 0 (for reports and parity). */
  all_terms?: boolean;
}

export interface SegLoss {
  /** dice + bce + focal, a scalar. */
  total: Tensor;
  dice: Tensor;
  bce: Tensor;
  focal: Tensor;
  /** [C] each class's term with weight 1. */
  dice_per_class_unweighted: Tensor;
  bce_per_class_unweighted: Tensor;
  /** [C] including focal_factor. */
  focal_per_class_unweighted_x10: Tensor;
}

const CLASS_REDUCE = [0, 2, 3];

/** [C] batch-level soft Dice loss per class; classes with no target pixel in the batch give 0. */
export function diceLossPerClass(logits: Tensor, target: Tensor, smooth = 1, eps = 1e-7, valid?: Tensor): Tensor {
  return torch.tidy(() => {
    const p = valid ? logits.sigmoid().mul(valid) : logits.sigmoid();
    if (valid) target = target.mul(valid);
    const inter = p.mul(target).sum(CLASS_REDUCE);
    const card = p.add(target).sum(CLASS_REDUCE);
    const score = inter.mul(2).add(smooth).div(card.add(smooth)).clamp(eps);
    const present = target.sum(CLASS_REDUCE).gt(0);
    return score.neg().add(1).mul(present);
  });
}

/** [C] per-pixel losses [B, C, H, W] averaged per class: the plain mean, or Σv·l / Σv over the valid pixels. */
function classMean(l: Tensor, valid?: Tensor): Tensor {
  if (!valid) return l.mean(CLASS_REDUCE);
  // max(Σv, 1e-12): no valid pixel gives 0 / tiny = 0, not NaN.
  return l.mul(valid).sum(CLASS_REDUCE).div(valid.sum().clamp(1e-12));
}

/** [C] mean BCE-with-logits per class. */
export function bceLossPerClass(logits: Tensor, target: Tensor, valid?: Tensor): Tensor {
  return torch.tidy(() => classMean(F.binary_cross_entropy_with_logits(logits, target, { reduction: 'none' }), valid));
}

/** [C] binary focal loss per class (gamma 2, no alpha), without the factor. */
export function focalLossPerClass(logits: Tensor, target: Tensor, gamma = 2, valid?: Tensor): Tensor {
  return torch.tidy(() => {
    const logpt = F.binary_cross_entropy_with_logits(logits, target, { reduction: 'none' });
    const focal = logpt.neg().exp().neg().add(1).pow(gamma);
    return classMean(focal.mul(logpt), valid);
  });
}

function weightsFor(w: readonly (number | null)[], C: number, what: string): number[] {
  if (w.length < C) throw new Error(`segmentation loss: ${what} has ${w.length} weights for ${C} classes`);
  return w.slice(0, C).map((v) => v ?? 1);
}

/**
 * The weighted Dice + BCE + focal loss of logits [B, C, H, W] against a soft target of the same shape; `valid`
 * [B, 1, H, W] leaves ignored pixels out (see the top of this file).
 */
export function segmentationLoss(logits: Tensor, target: Tensor, o: SegLossOptions, valid?: Tensor): SegLoss {
  const C = logits.size(1);
  const shape = logits.shape;
  if (target.shape.length !== shape.length || target.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`segmentation loss: logits [${shape}] and target [${target.shape}] differ`);
  }
  if (valid && (valid.ndim !== 4 || valid.size(1) !== 1 || [0, 2, 3].some((i) => valid.size(i) !== shape[i]))) {
    throw new Error(`segmentation loss: valid [${valid.shape}] must be [${shape[0]}, 1, ${shape[2]}, ${shape[3]}]`);
  }
  return torch.tidy(() => {
    const device = logits.device as torch.Device;
    const term = (weights: readonly (number | null)[], what: string, perClass: () => Tensor, factor = 1) => {
      const w = weightsFor(weights, C, what);
      if (!o.all_terms && w.every((v) => v === 0)) {
        const zero = torch.zeros([C], { device });
        return { weighted: zero.sum(), perClass: zero };
      }
      const pc = factor === 1 ? perClass() : perClass().mul(factor);
      return { weighted: pc.mul(torch.tensor(w, { device })).sum(), perClass: pc };
    };
    const dice = term(o.dice, 'dice', () => diceLossPerClass(logits, target, o.dice_smooth ?? 1, o.dice_eps ?? 1e-7, valid));
    const bce = term(o.bce, 'bce', () => bceLossPerClass(logits, target, valid));
    const focal = term(o.focal, 'focal', () => focalLossPerClass(logits, target, 2, valid), o.focal_factor ?? 10);
    return {
      total: dice.weighted.add(bce.weighted).add(focal.weighted),
      dice: dice.weighted,
      bce: bce.weighted,
      focal: focal.weighted,
      dice_per_class_unweighted: dice.perClass,
      bce_per_class_unweighted: bce.perClass,
      focal_per_class_unweighted_x10: focal.perClass,
    };
  });
}
