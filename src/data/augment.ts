// Training augmentations (spec §7.4), run in the order a config's `augment` block lists them, on
// one sample at the network size: image [3, H, W] in [0, 1] and soft mask [C, H, W]. Each sample
// draws from its own stream rng(seed, epoch, index), so a run repeats exactly whatever the batch
// order. Geometric steps move image and mask together; colour steps touch the image only.
import type { AugmentationName, AugmentBlock } from '../config/index.js';
import * as torch from '../torch/index.js';
import { DataError } from './errors.js';
import { StreamRng, streamSeed } from './rng.js';
import { hed2rgb, rgb2hed } from './stain.js';

type Tensor = torch.Tensor;

export interface Sample {
  image: Tensor;
  mask: Tensor;
}

export interface Augmentation {
  readonly name: string;
  /**
   * Whether its output depends on the random draws (with these options): then a sample differs from epoch to
   * epoch, and whatever is computed from it cannot be cached (train/teacher_cache.ts refuses the pipeline).
   */
  readonly random: boolean;
  /** A new sample (the caller owns the tensors, e.g. inside torch.tidy). */
  apply(s: Sample, rng: StreamRng): Sample;
}

const GRID_BILINEAR = 0;
const GRID_NEAREST = 1;
const GRID_ZEROS = 0;

/** HEBDecompose: the reference's rgb2hed input option; use: false (its setting) is the identity. */
export class HEBDecompose implements Augmentation {
  readonly name = 'HEBDecompose';
  readonly random = false;
  constructor(readonly use: boolean) {}
  apply(s: Sample): Sample {
    return this.use ? { image: rgb2hed(s.image), mask: s.mask } : s;
  }
}

/**
 * Flip: `h` flips the rows (dim 1 of CHW, a vertical flip on screen) and `v` the columns, each when
 * its own draw exceeds 0.5, as in the reference. `prob_th` is read but ignored there (the 0.5 is
 * hard-coded; spec §12.9); it is ignored here too so that configs behave the same.
 */
export class Flip implements Augmentation {
  readonly name = 'Flip';
  readonly random: boolean;
  constructor(
    readonly h: boolean,
    readonly v: boolean,
  ) {
    this.random = h || v;
  }
  apply(s: Sample, rng: StreamRng): Sample {
    const dims: number[] = [];
    if (rng.next() > 0.5 && this.h) dims.push(1);
    if (rng.next() > 0.5 && this.v) dims.push(2);
    return dims.length ? { image: s.image.flip(dims), mask: s.mask.flip(dims) } : s;
  }
}

type M2 = [number, number, number, number]; // row-major 2x2
const mul2 = (a: M2, b: M2): M2 => [
  a[0] * b[0] + a[1] * b[2],
  a[0] * b[1] + a[1] * b[3],
  a[2] * b[0] + a[3] * b[2],
  a[2] * b[1] + a[3] * b[3],
];
const deg = (d: number): number => (d * Math.PI) / 180;

/**
 * Affine (albumentations A.Affine with fit_output False): about the image centre, scale, shear
 * (x and y angles drawn separately), rotation (positive = counter-clockwise on screen), then
 * translation by a fraction of the size (x and y drawn separately); applied with probability p.
 * The image is sampled bilinearly and the mask by nearest neighbour, both with zero outside.
 */
export class Affine implements Augmentation {
  readonly name = 'Affine';
  readonly random: boolean;
  constructor(
    readonly scale: [number, number],
    readonly translate: [number, number],
    readonly rotate: [number, number],
    readonly shear: [number, number],
    readonly p: number,
  ) {
    this.random = p > 0;
  }

  /** The drawn parameters and the forward map in centred pixel coordinates, out = A·in + t (every draw is made, used or not). */
  draw(rng: StreamRng, height: number, width: number): { apply: boolean; angle: number; scale: number; A: M2; t: [number, number] } {
    const apply = rng.next() < this.p;
    const scale = rng.uniform(...this.scale);
    const angle = rng.uniform(...this.rotate);
    const [shx, shy] = [deg(rng.uniform(...this.shear)), deg(rng.uniform(...this.shear))];
    const t: [number, number] = [rng.uniform(...this.translate) * width, rng.uniform(...this.translate) * height];
    const [c, s] = [Math.cos(deg(angle)), Math.sin(deg(angle))];
    const rot: M2 = [c, s, -s, c]; // y points down
    const A = mul2(rot, mul2([1, Math.tan(shx), Math.tan(shy), 1], [scale, 0, 0, scale]));
    return { apply, angle, scale, A, t };
  }

  apply(s: Sample, rng: StreamRng): Sample {
    const [, height, width] = s.image.shape as [number, number, number];
    const { apply, A, t } = this.draw(rng, height, width);
    if (!apply) return s;
    // affine_grid maps output to input in normalised coordinates n = 2·p/size (p centred pixels):
    // in_n = N·A⁻¹·N⁻¹·out_n − N·A⁻¹·t.
    const det = A[0] * A[3] - A[1] * A[2];
    if (Math.abs(det) < 1e-12) throw new DataError(`Affine: the drawn transform [${A}] is singular; check scale and shear`);
    const inv: M2 = [A[3] / det, -A[1] / det, -A[2] / det, A[0] / det];
    const [nx, ny] = [2 / width, 2 / height];
    const theta = [
      [inv[0], (inv[1] * nx) / ny, -nx * (inv[0] * t[0] + inv[1] * t[1])],
      [(inv[2] * ny) / nx, inv[3], -ny * (inv[2] * t[0] + inv[3] * t[1])],
    ];
    return torch.tidy(() => {
      const grid = torch.op('affine_grid_generator', torch.tensor([theta]), [1, 1, height, width], false);
      const warp = (x: Tensor, mode: number): Tensor => torch.op('grid_sampler', x.unsqueeze(0), grid, mode, GRID_ZEROS, false).squeeze(0);
      return { image: warp(s.image, GRID_BILINEAR), mask: warp(s.mask, GRID_NEAREST) };
    });
  }
}

/** Resize: image and mask bilinearly to `size` (soft labels, as the reference's resize_my); a no-op at that size. */
export class Resize implements Augmentation {
  readonly name = 'Resize';
  readonly random = false;
  constructor(readonly size: [number, number]) {}
  apply(s: Sample): Sample {
    const [, h, w] = s.image.shape;
    if (h === this.size[0] && w === this.size[1]) return s;
    const resize = (x: Tensor): Tensor =>
      torch.nn.functional.interpolate(x.unsqueeze(0), { size: this.size, mode: 'bilinear', align_corners: false }).squeeze(0);
    return { image: resize(s.image), mask: resize(s.mask) };
  }
}

/**
 * HEDJitter (mmfd; not in the reference): colour deconvolution into H, E, DAB amounts (stain.ts),
 * each channel scaled by U(1 - alpha, 1 + alpha) and shifted by U(-beta, beta) (skimage rgb2hed
 * units), then recomposed to RGB (Tellez et al. 2018, "HED-light" with the defaults).
 */
export class HEDJitter implements Augmentation {
  readonly name = 'HEDJitter';
  readonly random: boolean;
  constructor(
    readonly use: boolean,
    readonly alpha: number,
    readonly beta: number,
  ) {
    this.random = use;
  }
  apply(s: Sample, rng: StreamRng): Sample {
    const a = [0, 1, 2].map(() => rng.uniform(1 - this.alpha, 1 + this.alpha));
    const b = [0, 1, 2].map(() => rng.uniform(-this.beta, this.beta));
    if (!this.use) return s;
    return torch.tidy(() => {
      const hed = rgb2hed(s.image, false); // negative amounts kept: alpha 1, beta 0 gives the image back
      const jittered = hed.mul(torch.tensor(a).reshape(3, 1, 1)).add(torch.tensor(b).reshape(3, 1, 1));
      return { image: hed2rgb(jittered), mask: s.mask };
    });
  }
}

/** BrightnessContrast (mmfd): image·(1 + U(±contrast)) + U(±brightness), clipped to [0, 1]. */
export class BrightnessContrast implements Augmentation {
  readonly name = 'BrightnessContrast';
  readonly random: boolean;
  constructor(
    readonly use: boolean,
    readonly brightness: number,
    readonly contrast: number,
  ) {
    this.random = use;
  }
  apply(s: Sample, rng: StreamRng): Sample {
    const c = 1 + rng.uniform(-this.contrast, this.contrast);
    const b = rng.uniform(-this.brightness, this.brightness);
    if (!this.use) return s;
    return { image: torch.tidy(() => s.image.mul(c).add(b).clamp(0, 1)), mask: s.mask };
  }
}

// ---- building from a config block ---------------------------------------------------------------

/** How each augmentation a config may list is built from its validated options. */
const BUILDERS: { [K in AugmentationName]-?: (o: NonNullable<AugmentBlock[K]>) => Augmentation } = {
  HEBDecompose: (o) => new HEBDecompose(o.use),
  Flip: (o) => new Flip(o.h, o.v),
  Affine: (o) => new Affine(o.scale, o.translate, o.rotate, o.shear, o.p),
  Resize: (o) => new Resize(o.size),
  HEDJitter: (o) => new HEDJitter(o.use, o.alpha, o.beta),
  BrightnessContrast: (o) => new BrightnessContrast(o.use, o.brightness, o.contrast),
};

/** The augmentations of a validated config block (e.g. cfg.train.augment), in its order. */
export function buildAugmentations(block: AugmentBlock): Augmentation[] {
  return Object.entries(block).map(([name, o]) => (BUILDERS[name as AugmentationName] as (o: unknown) => Augmentation)(o));
}

/** Keeps the augmentation streams apart from the shuffle and few-shot streams of the same seed. */
const AUGMENT_STREAM = 0xa6;

/** The stream of sample `index` (its position in the split) in `epoch`. */
export const sampleRng = (seed: number, epoch: number, index: number): StreamRng =>
  new StreamRng(streamSeed(seed, AUGMENT_STREAM, epoch, index));

/** Runs the augmentations in order; intermediate tensors are released, the result is the caller's. */
export function augment(sample: Sample, augmentations: readonly Augmentation[], rng: StreamRng): Sample {
  const [is, ms] = [sample.image.shape, sample.mask.shape];
  if (is.length !== 3 || ms.length !== 3 || is[1] !== ms[1] || is[2] !== ms[2]) {
    throw new RangeError(`augment: image [${is}] and mask [${ms}] must be [C, H, W] of the same H and W`);
  }
  return torch.tidy(() => augmentations.reduce((s, a) => a.apply(s, rng), sample));
}
