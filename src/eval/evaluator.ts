// The test-stage evaluator: scores images one at a time (batch 1) and aggregates them exactly as the
// reference's Evaluator_ms does (lib/evaluators/placenta_dataset/multimodel2s.py), plus mmfd's true HD95.
import type * as torch from '../torch/index.js';
import { type ImageScores, imageScores, iouScores, type Overlap, probabilities } from './metrics.js';

/** Aggregated values by key: per-class lists and scalars. */
export type Summary = Record<string, number | number[]>;

/**
 * Keys that mmfd names for what they hold, mapped to the reference's names: the reference's
 * "hd95" is the maximum Hausdorff distance (see ImageScores.hausdorff_max).
 */
export const REFERENCE_KEY: Readonly<Record<string, string>> = { hausdorff_max: 'hd95', hausdorff_max_mean: 'hd95_mean' };

/** Summary keys of mmfd's own (not in the reference's summary): the true HD95 and the pooled scores. */
export const isMmfdKey = (key: string): boolean => key.startsWith('hd95_true') || key.startsWith('pooled_');

/**
 * How the reference's per-image scores read: its soft Dice is 0/max(0, 1e-6) = 0 and its IoU eps/eps = 1 on an
 * image where neither truth nor prediction has the class, so on a class most images lack the two disagree wildly.
 */
export const PER_IMAGE_NOTE =
  'per-image mean; an image where neither truth nor prediction has the class scores Dice 0 and IoU 1, as in the reference';
export const POOLED_NOTE =
  'pooled (dataset-level): intersections and unions summed over all images, then divided (prediction > 0.5, soft truth); n/a for a class no image has in truth or prediction';

export interface EvaluatorOptions {
  /** Refinement levels scored per image (the reference's component.test_iter). Default 1. */
  levels?: number;
  /** Microns per pixel of the evaluated masks; adds the HD95 in microns. */
  mpp?: number;
}

/** Python's sum(list): left to right from 0, so the result is the reference's to the bit. */
function sequentialSum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** The reference's image mean: per class, Σ over images / (N + 0.001). */
function referenceMean(rows: readonly number[][], classes: number): number[] {
  return Array.from({ length: classes }, (_, c) => sequentialSum(rows.map((r) => r[c]!)) / (rows.length + 0.001));
}

/** The reference's class mean: sum(list) / len(list). */
function classMean(values: readonly number[]): number {
  return sequentialSum(values) / values.length;
}

/** Mean of the values that are not NaN; NaN when there are none. */
function definedMean(values: readonly number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return defined.length === 0 ? Number.NaN : classMean(defined);
}

/**
 * Dataset-level IoU and Dice per class from every image's overlap: ΣI / (ΣT + ΣP − ΣI) and 2ΣI / (ΣT + ΣP), NaN
 * for a class that neither truth nor prediction has in any image. Both thresholded alike, so Dice = 2 IoU / (1 + IoU).
 */
export function pooledScores(images: readonly (readonly Overlap[])[], classes: number): { iou: number[]; dice: number[] } {
  const total = (c: number, key: keyof Overlap) => images.reduce((sum, row) => sum + row[c]![key], 0);
  const iou: number[] = [];
  const dice: number[] = [];
  for (let c = 0; c < classes; c++) {
    const [i, both] = [total(c, 'intersection'), total(c, 'truth') + total(c, 'predicted')];
    iou.push(both > 0 ? i / (both - i) : Number.NaN);
    dice.push(both > 0 ? (2 * i) / both : Number.NaN);
  }
  return { iou, dice };
}

export class Evaluator {
  readonly levels: number;
  readonly mpp: number | undefined;
  readonly #iouByLevel: number[][][];
  readonly #images: ImageScores[] = [];
  #classes: number | undefined;

  constructor(options: EvaluatorOptions = {}) {
    this.levels = options.levels ?? 1;
    if (!Number.isInteger(this.levels) || this.levels < 1) throw new RangeError(`levels must be a positive integer, got ${this.levels}`);
    if (options.mpp !== undefined && !(options.mpp > 0)) throw new RangeError(`mpp must be positive, got ${options.mpp}`);
    this.mpp = options.mpp;
    this.#iouByLevel = Array.from({ length: this.levels }, () => []);
  }

  /**
   * Scores one image: logits and soft GT, both [1,C,H,W], and the valid weights [1,1,H,W] of a dataset with ignored
   * pixels (they count nowhere). Every level keeps its IoU; the last level
   * (the default) also gets every other score, as the reference computes them on the final output only.
   */
  add(logits: torch.Tensor, gt: torch.Tensor, level = this.levels - 1, valid?: torch.Tensor): void {
    if (!Number.isInteger(level) || level < 0 || level >= this.levels) throw new RangeError(`level ${level} is not in [0, ${this.levels})`);
    const classes = logits.shape[1];
    if (this.#classes !== undefined && classes !== this.#classes) throw new RangeError(`${classes} classes after ${this.#classes}`);
    const probs = probabilities(logits);
    try {
      if (level === this.levels - 1) {
        const scores = imageScores(probs, gt, valid);
        this.#images.push(scores);
        this.#iouByLevel[level]!.push(scores.iou);
      } else {
        this.#iouByLevel[level]!.push(iouScores(probs, gt, valid));
      }
    } finally {
      probs.dispose();
    }
    this.#classes = classes;
  }

  /** The per-image scores of the last level, in the order added. */
  get images(): readonly ImageScores[] {
    return this.#images;
  }

  /**
   * The reference's summary keys (MIoU_{c}_L{level}, MIoU_mean_L{level}, dice, acc, precision,
   * recall, fscore, each with *_mean, num_imgs), with its "hd95" under its honest name
   * hausdorff_max (see REFERENCE_KEY), plus mmfd's hd95_true_px (and hd95_true_um when mpp is set).
   * hausdorff_max drops every image with a NaN class first, as the reference does; NaN when none is
   * left (the reference fails there). hd95_true is the plain mean, per class, of the images where
   * it is defined (not NaN); its class mean averages the classes that have a value. pooled_iou and pooled_dice
   * (`pooledScores`, last level) are dataset-level; their class means average the classes that have a value.
   */
  summary(): Summary {
    const classes = this.#classes;
    const empty = this.#iouByLevel.findIndex((rows) => rows.length === 0);
    if (classes === undefined || empty >= 0) throw new Error(`no image was scored at level ${Math.max(empty, 0)}`);
    const out: Summary = {};
    this.#iouByLevel.forEach((rows, level) => {
      const miou = referenceMean(rows, classes);
      miou.forEach((v, c) => {
        out[`MIoU_${c}_L${level}`] = v;
      });
      out[`MIoU_mean_L${level}`] = classMean(miou);
    });
    const images = this.#images;
    const column = (key: Exclude<keyof ImageScores, 'overlap'>) => images.map((s) => s[key]);
    const put = (key: string, values: number[], mean = classMean) => {
      out[key] = values;
      out[`${key}_mean`] = mean(values);
    };
    put('dice', referenceMean(column('soft_dice'), classes));
    put('acc', referenceMean(column('accuracy'), classes));
    put('precision', referenceMean(column('precision'), classes));
    put('recall', referenceMean(column('recall'), classes));
    put('fscore', referenceMean(column('fscore'), classes));
    const complete = column('hausdorff_max').filter((row) => !row.some(Number.isNaN));
    put('hausdorff_max', complete.length === 0 ? new Array<number>(classes).fill(Number.NaN) : referenceMean(complete, classes));
    const hd95 = column('hd95_px');
    const hd95Px = Array.from({ length: classes }, (_, c) => definedMean(hd95.map((row) => row[c]!)));
    put('hd95_true_px', hd95Px, definedMean);
    const mpp = this.mpp;
    if (mpp !== undefined) {
      put(
        'hd95_true_um',
        hd95Px.map((v) => v * mpp),
        definedMean,
      );
    }
    const pooled = pooledScores(
      images.map((s) => s.overlap),
      classes,
    );
    put('pooled_iou', pooled.iou, definedMean);
    put('pooled_dice', pooled.dice, definedMean);
    out.num_imgs = this.#iouByLevel[this.levels - 1]!.length;
    return out;
  }
}
