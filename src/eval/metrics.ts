// Per-image, per-class scores of the reference's test evaluator (spec §8; lib/utils/pan_seg/eval_utils.py
// over segmentation_models_pytorch's metrics), plus mmfd's true HD95.
//
// The reference computes every score on float32 tensors: float32 sums, then float32 arithmetic with
// the eps constants rounded to float32. mmfd takes the sums from libtorch in float32 and repeats the
// arithmetic with Math.fround, so a score differs from the reference's only by summation order.
import * as torch from '../torch/index.js';
import { hausdorffDistance, hd95, type Mask } from './distance.js';

type Tensor = torch.Tensor;

/** One value per class (channel) of one image. */
export interface ImageScores {
  /** smp IoU: prediction thresholded at 0.5, soft GT as is; 1 when both are empty. */
  iou: number[];
  /** 2Σpg / max(Σg² + Σp², 1e-6) on the raw probabilities; 0 when both are empty. */
  soft_dice: number[];
  /** Fraction of pixels where GT equals the thresholded prediction (a soft GT pixel never does). */
  accuracy: number[];
  precision: number[];
  recall: number[];
  fscore: number[];
  /**
   * What the reference reports as "hd95": np.percentile of one Hausdorff distance, which is that
   * distance, i.e. the maximum (symmetric) Hausdorff distance between (p > 0.5) and (g > 0.5), in
   * pixels. 0 when both sets are empty; NaN when exactly one is (the percentile of +inf).
   */
  hausdorff_max: number[];
  /** The true HD95 of the same sets (distance.ts `hd95`), in pixels: 0 both empty, NaN one empty. */
  hd95_px: number[];
  /** The IoU's sums, for pooling over a dataset (evaluator.ts `pooledScores`). */
  overlap: Overlap[];
}

/** One class of one image: Σ g·pr, Σ g and Σ pr, with pr = 1[p > 0.5] and g the soft GT (the IoU's terms). */
export interface Overlap {
  intersection: number;
  truth: number;
  predicted: number;
}

/** The reference's threshold on probabilities (and on the GT for the distances). */
const THRESHOLD = 0.5;
const f32 = Math.fround;
/** smp's eps = 1e-7 as the float32 tensor arithmetic sees it. */
const EPS = f32(1e-7);
/** calc_dice's denominator clamp, 1e-6, in float32. */
const DICE_CLAMP = f32(1e-6);

/** The float32 sums every score is made of, for one class of one image. */
interface ClassSums {
  /** Σ g·pr with pr = 1[p > 0.5]: the (soft) true positives. */
  tp: number;
  sumG: number;
  sumPr: number;
  /** Pixels where g == pr. */
  matches: number;
  sumPG: number;
  sumGG: number;
  sumPP: number;
  pixels: number;
}

/**
 * With `v` (valid weights, 0 at ignored pixels), every sum is over the valid pixels only: p, pr and g are
 * multiplied by v, matches and pixels count v, so an ignored pixel is neither right nor wrong.
 */
function classSums(p: Tensor, g: Tensor, v?: Tensor): ClassSums {
  if (v !== undefined) return weightedClassSums(p, g, v);
  return torch.tidy(() => {
    const pr = p.gt(THRESHOLD).float();
    return {
      tp: g.mul(pr).sum().item(),
      sumG: g.sum().item(),
      sumPr: pr.sum().item(),
      matches: g.eq(pr).sum(undefined, false, 'float32').item(),
      sumPG: g.mul(p).sum().item(),
      sumGG: g.square().sum().item(),
      sumPP: p.square().sum().item(),
      pixels: p.numel(),
    };
  });
}

function weightedClassSums(p: Tensor, g: Tensor, v: Tensor): ClassSums {
  return torch.tidy(() => {
    const pr = p.gt(THRESHOLD).float().mul(v);
    const [pv, gv] = [p.mul(v), g.mul(v)];
    return {
      tp: gv.mul(pr).sum().item(),
      sumG: gv.sum().item(),
      sumPr: pr.sum().item(),
      matches: g.eq(p.gt(THRESHOLD).float()).float().mul(v).sum().item(),
      sumPG: gv.mul(pv).sum().item(),
      sumGG: gv.square().sum().item(),
      sumPP: pv.square().sum().item(),
      pixels: v.sum().item(),
    };
  });
}

/** smp.utils.functional.iou: (tp + eps) / (Σg + Σpr − tp + eps). */
function iouOf(s: ClassSums): number {
  return f32(f32(s.tp + EPS) / f32(f32(f32(s.sumG + s.sumPr) - s.tp) + EPS));
}

/** The scores made of sums alone (the distances need the pixel sets). */
type SumScore = 'iou' | 'soft_dice' | 'accuracy' | 'precision' | 'recall' | 'fscore';

/**
 * smp's precision (tp + eps) / (tp + fp + eps), recall (tp + eps) / (tp + fn + eps), F1
 * (2tp + eps) / (2tp + fn + fp + eps) with fp = Σpr − tp, fn = Σg − tp; accuracy Σ[g == pr] / pixels;
 * calc_dice 2Σpg / clamp(Σg² + Σp², min 1e-6). Each written in the reference's operation order.
 */
function scoresOf(s: ClassSums): Record<SumScore, number> & { overlap: Overlap } {
  const fp = f32(s.sumPr - s.tp);
  const fn = f32(s.sumG - s.tp);
  const twoTp = f32(2 * s.tp);
  return {
    iou: iouOf(s),
    soft_dice: f32(f32(2 * s.sumPG) / Math.max(f32(s.sumGG + s.sumPP), DICE_CLAMP)),
    accuracy: f32(s.matches / s.pixels),
    precision: f32(f32(s.tp + EPS) / f32(f32(s.tp + fp) + EPS)),
    recall: f32(f32(s.tp + EPS) / f32(f32(s.tp + fn) + EPS)),
    fscore: f32(f32(twoTp + EPS) / f32(f32(f32(twoTp + fn) + fp) + EPS)),
    overlap: { intersection: s.tp, truth: s.sumG, predicted: s.sumPr },
  };
}

/** σ(logits) in float32, as the reference's evaluator takes it from the model output. */
export function probabilities(logits: Tensor): Tensor {
  return torch.tidy(() => logits.float().sigmoid());
}

function checkPair(probs: Tensor, gt: Tensor): void {
  const [b, c, h, w] = probs.shape;
  const same = probs.ndim === 4 && gt.ndim === 4 && probs.shape.every((d, i) => d === gt.shape[i]);
  if (!same) throw new RangeError(`prediction [${probs.shape}] and GT [${gt.shape}] must both be [1,C,H,W]`);
  // The reference raises here too: its scores are per image.
  if (b !== 1) throw new RangeError(`evaluation needs batch size 1, got a batch of ${b} ([${b},${c},${h},${w}])`);
}

/** The reference's IoU per class (the only score it keeps for every refinement level). */
export function iouScores(probs: Tensor, gt: Tensor, valid?: Tensor): number[] {
  checkPair(probs, gt);
  const channels = probs.size(1);
  return torch.tidy(() => {
    const g = gt.float();
    const v = valid?.select(1, 0);
    return Array.from({ length: channels }, (_, c) => iouOf(classSums(probs.select(1, c), g.select(1, c), v)));
  });
}

/** Per-class binary masks (value > 0.5) of a [1,C,H,W] tensor, on the CPU. */
function thresholdMasks(t: Tensor): Mask[] {
  const [, channels, height, width] = t.shape as [number, number, number, number];
  const data = torch.tidy(() => t.gt(THRESHOLD).to({ dtype: 'uint8', device: 'cpu' }).toTypedArray() as Uint8Array);
  const plane = height * width;
  return Array.from({ length: channels }, (_, c) => ({ data: data.subarray(c * plane, (c + 1) * plane), height, width }));
}

/** Every score of one image: probs = σ(logits) [1,C,H,W] (see `probabilities`), gt the soft mask. */
export function imageScores(probs: Tensor, gt: Tensor, valid?: Tensor): ImageScores {
  checkPair(probs, gt);
  const channels = probs.size(1);
  const perClass = torch.tidy(() => {
    const g = gt.float();
    const v = valid?.select(1, 0);
    return Array.from({ length: channels }, (_, c) => scoresOf(classSums(probs.select(1, c), g.select(1, c), v)));
  });
  // The distances see ignored pixels as empty in both sets.
  const predMasks = valid ? torch.tidy(() => thresholdMasks(probs.mul(valid))) : thresholdMasks(probs);
  const gtMasks = valid ? torch.tidy(() => thresholdMasks(gt.mul(valid))) : thresholdMasks(gt);
  const pick = (key: SumScore) => perClass.map((s) => s[key]);
  return {
    iou: pick('iou'),
    soft_dice: pick('soft_dice'),
    accuracy: pick('accuracy'),
    precision: pick('precision'),
    recall: pick('recall'),
    fscore: pick('fscore'),
    // Infinity (exactly one set empty) becomes NaN, as np.percentile turns it in the reference.
    hausdorff_max: predMasks.map((m, c) => {
      const d = hausdorffDistance(m, gtMasks[c]!);
      return Number.isFinite(d) ? d : Number.NaN;
    }),
    hd95_px: predMasks.map((m, c) => hd95(m, gtMasks[c]!)),
    overlap: perClass.map((s) => s.overlap),
  };
}
