// The resolution contract (issue 6): a network sees its input at one physical pixel size, whatever the
// scanner. The slide's microns per pixel (mpp) come from its metadata, `--mpp` overrides them, and a slide
// with none or an implausible value is refused unless overridden, since a wrong scale silently ruins every
// prediction and area (the most common failure the peers' users report). Every model checkpoint records the
// pixel size of its network input as `input_mpp` in its meta; absent, it is DEFAULT_INPUT_MPP. Segmentation
// reads the coarsest pyramid level still at least as fine as that, then resamples to it (resample.ts).
import type { SlideLevel } from './openslide.js';

/** Microns per pixel a real scan can have: from far beyond 100x optics up to a coarse overview. */
export const PLAUSIBLE_MPP = { min: 0.05, max: 20 } as const;

/**
 * input_mpp of a checkpoint whose meta records none: the reference trained on 1024-pixel patches scanned
 * at about 0.5 um/px (20x) and resized to 512 pixels, so its networks see about 1.0 um per input pixel.
 */
export const DEFAULT_INPUT_MPP = 1.0;

/** A level whose mpp is within this fraction of the target is used as it is, without resampling. */
export const MPP_TOLERANCE = 0.02;

/** Largest relative difference between mpp-x and mpp-y still taken as square pixels. */
const SQUARE_TOLERANCE = 0.01;

export class MppError extends Error {}

export interface SlideMpp {
  /** Microns per level-0 pixel. */
  mpp: number;
  source: 'metadata' | 'override';
}

const plausible = (v: number) => Number.isFinite(v) && v >= PLAUSIBLE_MPP.min && v <= PLAUSIBLE_MPP.max;
const range = `${PLAUSIBLE_MPP.min}-${PLAUSIBLE_MPP.max} um/px`;

/**
 * The slide's level-0 mpp: `override` (the user's --mpp) when given, else the metadata's. A slide with no
 * mpp, non-square pixels or an implausible mpp is an error naming the file and saying to pass --mpp.
 */
export function resolveSlideMpp(path: string, metadata: { x: number; y: number } | undefined, override?: number): SlideMpp {
  if (override !== undefined) {
    if (!plausible(override)) throw new MppError(`${path}: --mpp ${override} is not a plausible pixel size (expected ${range})`);
    return { mpp: override, source: 'override' };
  }
  if (metadata === undefined) {
    throw new MppError(
      `${path}: no pixel size is recorded (no openslide.mpp-x/y, no resolution tags); give it with --mpp <microns per pixel>`,
    );
  }
  const { x, y } = metadata;
  if (Math.abs(x - y) > SQUARE_TOLERANCE * Math.min(x, y)) {
    throw new MppError(
      `${path}: the slide's pixels are not square (mpp-x ${x}, mpp-y ${y}); check the scan, or give --mpp to accept one value`,
    );
  }
  const mpp = (x + y) / 2;
  if (!plausible(mpp)) {
    throw new MppError(
      `${path}: its metadata says ${mpp} um/px, which is implausible (expected ${range}); give the right value with --mpp`,
    );
  }
  return { mpp, source: 'metadata' };
}

/**
 * Upsampling a slide by more than this for the network is refused unless allowed: the work grows with the
 * square of the factor and the network sees no detail the scan lacks. A coarse --mpp is most often a mistake
 * (taken for the working resolution; it is the slide's own pixel size).
 */
export const MAX_UPSAMPLE = 2;

/** Throws (naming the file, saying why and what to pass) when the slide is MAX_UPSAMPLE times coarser than inputMpp. */
export function checkUpsample(
  path: string,
  slide: SlideMpp,
  metadata: { x: number; y: number } | undefined,
  inputMpp: number,
  allow = false,
): void {
  const factor = slide.mpp / inputMpp;
  if (allow || factor <= MAX_UPSAMPLE) return;
  const given =
    slide.source === 'metadata'
      ? "from the slide's metadata"
      : `from --mpp${metadata === undefined ? '' : `; the slide's metadata says ${(metadata.x + metadata.y) / 2} um/px`}`;
  throw new MppError(
    `${path}: the slide's pixels are ${slide.mpp} um (${given}), ${factor.toFixed(1)}x coarser than the network's input (${inputMpp} um/px): ` +
      `it would be upsampled ${factor.toFixed(1)}x, about ${Math.round(factor * factor)}x the work, with no detail gained. ` +
      `--mpp is the slide's own pixel size, not the working resolution; if the slide really is this coarse, pass --allow-upsample`,
  );
}

/** The network input's pixel size from a checkpoint's meta: `input_mpp`, or DEFAULT_INPUT_MPP when absent. */
export function inputMppOf(meta: Record<string, unknown>, where: string): number {
  const v = meta.input_mpp;
  if (v === undefined || v === null) return DEFAULT_INPUT_MPP;
  if (typeof v !== 'number' || !plausible(v))
    throw new MppError(`${where}: input_mpp ${JSON.stringify(v)} in the checkpoint's meta is not a pixel size in ${range}`);
  return v;
}

/**
 * How a slide is read for a network: from which level, and how that level maps onto the "grid" (the image
 * at the network's pixel size that tiles are cut from).
 */
export interface ReadPlan {
  level: number;
  /** Level-0 pixels per pixel of the level read: the factor the pyramid was made with (`exactDownsample`). */
  levelDownsample: number;
  /** OpenSlide's downsample of that level, by which its readRegion maps level-0 positions onto the level. */
  readDownsample: number;
  /** Microns per pixel of the level read. */
  levelMpp: number;
  /** Level pixels per grid pixel: 1 (read as is), > 1 (area-averaged down), < 1 (bilinear up: the slide is too coarse). */
  scale: number;
  resample: 'none' | 'area' | 'bilinear';
  /** Microns per grid pixel: the pixel size the network sees (the target, or the level's own within MPP_TOLERANCE). */
  gridMpp: number;
  /** Level-0 pixels per grid pixel. */
  gridDownsample: number;
  /** The grid's size: the whole level-0 image at gridMpp. */
  width: number;
  height: number;
}

/**
 * The levels OpenSlide reads without resampling: level 0 and those whose downsample is a whole number.
 * OpenSlide maps a region's level-0 position onto a level by dividing by the level's downsample (for a generic
 * TIFF or an Aperio slide the mean of w0 / w and h0 / h, e.g. 4.0002 on a real SVS, 1.9983 for a 751-pixel
 * level of a 1501-pixel image) and resamples bilinearly at a fractional result: RGB comes back slightly
 * smoothed, which is harmless for a network's input, but a label map comes back with values no pixel has (a
 * blend of 21 and 16 read as 20). Label maps are therefore read only from these levels. mmfd's own pyramids
 * (tiff_writer.ts) have whole downsamples at every level, so for them every level is here.
 */
export function exactLevels(levels: readonly SlideLevel[]): boolean[] {
  return levels.map((l, i) => i === 0 || Number.isInteger(l.downsample));
}

/**
 * Level-0 pixels per pixel of level i, exactly: the whole number nearest OpenSlide's downsample when the
 * level's size is level 0's divided by it, rounded either way (mmfd's writer and libvips round up, Aperio
 * down); else OpenSlide's own. OpenSlide averages w0 / w and h0 / h, which at an odd size is not the factor:
 * level 1 of a 2501 x 1999 slide (1251 x 1000) gets 1.99910, and a pixel size taken from it is 0.045% small.
 */
export function exactDownsample(levels: readonly SlideLevel[], i: number): number {
  const [base, level] = [levels[0]!, levels[i]!];
  const f = Math.round(level.downsample);
  const fits = (n0: number, n: number) => Math.abs(n0 / f - n) < 1;
  return f >= 1 && fits(base.width, level.width) && fits(base.height, level.height) ? f : level.downsample;
}

/**
 * The coarsest level whose mpp is at most the target (within MPP_TOLERANCE): it holds every detail the
 * network can use at the least reading and resampling. A level within the tolerance is read as is (its mpp
 * is reported as the mpp used); otherwise it is area-averaged to the target. A slide coarser than the target
 * at level 0 is upsampled bilinearly (the network then sees less detail than it was trained on).
 */
export function chooseLevel(levels: readonly SlideLevel[], slideMpp: number, targetMpp: number): ReadPlan {
  if (levels.length === 0) throw new MppError('chooseLevel: the slide has no levels');
  if (!plausible(targetMpp)) throw new MppError(`chooseLevel: target ${targetMpp} um/px is not in ${range}`);
  const factors = levels.map((_, i) => exactDownsample(levels, i));
  let level = 0;
  factors.forEach((f, i) => {
    const mpp = slideMpp * f;
    if (mpp <= targetMpp * (1 + MPP_TOLERANCE) && mpp > slideMpp * factors[level]!) level = i;
  });
  const chosen = levels[level]!;
  const levelDownsample = factors[level]!;
  const levelMpp = slideMpp * levelDownsample;
  const [w0, h0] = [levels[0]!.width, levels[0]!.height];
  const base = { level, levelDownsample, readDownsample: chosen.downsample, levelMpp };
  if (Math.abs(levelMpp / targetMpp - 1) <= MPP_TOLERANCE) {
    return {
      ...base,
      scale: 1,
      resample: 'none',
      gridMpp: levelMpp,
      gridDownsample: levelDownsample,
      width: chosen.width,
      height: chosen.height,
    };
  }
  const gridDownsample = targetMpp / slideMpp;
  return {
    ...base,
    scale: targetMpp / levelMpp,
    resample: levelMpp < targetMpp ? 'area' : 'bilinear',
    gridMpp: targetMpp,
    gridDownsample,
    width: Math.max(1, Math.round(w0 / gridDownsample)),
    height: Math.max(1, Math.round(h0 / gridDownsample)),
  };
}
