// The reference's overlay (spec §9): per-class probabilities, bilinearly resized to the image size and
// thresholded at p > 0.5, are drawn in class order c = 0..3 as
//   canvas = canvas·(1 − m_c) + m_c·(0.5·colour_c + 0.5·original)
// Because every class blends with the *original* image, a later class replaces an earlier one where they
// overlap instead of mixing with it.
import { basename, join } from 'node:path';
import { FINAL_CLASSES } from '../data/classes.js';
import type { RgbImage } from '../data/images.js';
import { interpolate } from '../torch/nn/functional.js';
import { tidy } from '../torch/scope.js';
import { Tensor } from '../torch/tensor.js';
import { rgbPipeline, writeRaster } from './raster.js';

export type Rgb = readonly [number, number, number];

/** The overlay colours in channel order, from the class table. */
export const CLASS_COLOURS: readonly Rgb[] = FINAL_CLASSES.map((c) => c.colour);

/** One binary mask per class at the image size: masks[c][y * width + x] is 1 where class c is drawn. */
export interface ClassMasks {
  width: number;
  height: number;
  masks: Uint8Array[];
}

/** Drops a leading batch dimension of 1, so both [N,H,W] and [1,N,H,W] are accepted. */
function unbatched(t: Tensor, channels: number | null, what: string): Tensor {
  const shape = t.shape;
  const ok = shape.length === 3 || (shape.length === 4 && shape[0] === 1);
  if (!ok || (channels !== null && shape[shape.length - 3] !== channels)) {
    throw new Error(`${what}: expected [${channels ?? 'C'},H,W] or [1,${channels ?? 'C'},H,W], got [${shape.join(',')}]`);
  }
  return shape.length === 4 ? t.squeeze(0) : t;
}

/**
 * An image tensor [3,H,W] (or [1,3,H,W]) in [0,1] as 8-bit RGB, as the reference's `image·255` ends up
 * in its uint8 JPEG: truncated, not rounded. Truncating before the blend gives the same overlay as
 * blending in float and truncating after, because floor((c + n + f)/2) = floor((c + n)/2) for whole c, n
 * and 0 ≤ f < 1. Values outside [0,1] are clamped.
 */
export function imageFromTensor(image: Tensor): RgbImage {
  const hwc = tidy(() =>
    unbatched(image, 3, 'imageFromTensor').float().mul(255).clamp(0, 255).permute(1, 2, 0).contiguous().to('uint8').cpu(),
  );
  const [height, width] = hwc.shape as [number, number];
  const data = hwc.toTypedArray() as Uint8Array;
  hwc.dispose();
  return { data, width, height };
}

export function toRgbImage(image: RgbImage | Tensor): RgbImage {
  return image instanceof Tensor ? imageFromTensor(image) : image;
}

export interface MaskOptions {
  /** The maps are logits: σ is applied first, before the resize, as the reference does. Default false. */
  logits?: boolean;
}

/**
 * Per-class maps [C,H,W] (or [1,C,H,W]), probabilities or logits, as binary masks at width×height:
 * bilinear resize (align_corners false, PyTorch's default) then p > 0.5. A soft ground truth goes through
 * the same threshold.
 */
export function masksFromMaps(maps: Tensor, width: number, height: number, options: MaskOptions = {}): ClassMasks {
  const thresholded = tidy(() => {
    let p = unbatched(maps, null, 'masksFromMaps').float().unsqueeze(0);
    if (options.logits) p = p.sigmoid();
    if (p.shape[2] !== height || p.shape[3] !== width)
      p = interpolate(p, { size: [height, width], mode: 'bilinear', align_corners: false });
    return p.gt(0.5).to('uint8').squeeze(0).contiguous().cpu();
  });
  const classes = thresholded.shape[0] as number;
  const flat = thresholded.toTypedArray() as Uint8Array;
  thresholded.dispose();
  const n = width * height;
  return { width, height, masks: Array.from({ length: classes }, (_, c) => flat.subarray(c * n, (c + 1) * n)) };
}

/** The reference's blend (alpha 0.5) of masks over image; one colour per mask, in drawing order. */
export function blendOverlay(image: RgbImage, masks: ClassMasks, colours: readonly Rgb[] = CLASS_COLOURS): RgbImage {
  const { width, height, data } = image;
  if (masks.width !== width || masks.height !== height) {
    throw new Error(`blendOverlay: masks are ${masks.width}x${masks.height}, the image ${width}x${height}`);
  }
  if (masks.masks.length > colours.length) throw new Error(`blendOverlay: ${masks.masks.length} masks but ${colours.length} colours`);
  const out = new Uint8Array(data);
  masks.masks.forEach((mask, c) => {
    const colour = colours[c] as Rgb;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0) continue;
      // 0.5·colour + 0.5·original, truncated to uint8 as numpy's astype does: (colour + original) >> 1.
      for (let k = 0; k < 3; k++) out[i * 3 + k] = ((colour[k] as number) + (data[i * 3 + k] as number)) >> 1;
    }
  });
  return { data: out, width, height };
}

/** The reference's sample name: the file name cut at its first '.' (`a.b.jpg` -> `a`). */
export function referenceStem(file: string): string {
  const name = basename(file);
  const dot = name.indexOf('.');
  return dot === -1 ? name : name.slice(0, dot);
}

export interface ReferenceOverlayInput extends MaskOptions {
  /** The folder the reference calls result_dir/vis. */
  visDir: string;
  stem: string;
  image: RgbImage | Tensor;
  /** The predicted maps [4,h,w] or [1,4,h,w]; resized to the image. */
  maps: Tensor;
}

/** Writes the reference's single overlay JPEG, `<visDir>/<stem>_iter0.jpg`, and returns its path. */
export async function writeReferenceOverlay(input: ReferenceOverlayInput): Promise<string> {
  const image = toRgbImage(input.image);
  const overlay = blendOverlay(image, masksFromMaps(input.maps, image.width, image.height, input));
  const path = join(input.visDir, `${input.stem}_iter0.jpg`);
  await writeRaster(path, rgbPipeline(overlay));
  return path;
}
