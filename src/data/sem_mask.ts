// Tensors of a decoded sample, as the reference's dataset builds them (spec §7.2-7.3): the image
// as float32 RGB / 255 in CHW, the raw 7-channel mask resized bilinearly (soft labels), then the
// four final channels.
import * as torch from '../torch/index.js';
import { FINAL_SOURCES } from './classes.js';
import type { RgbImage } from './images.js';

type Tensor = torch.Tensor;
export type Size = readonly [number, number];

/** [3, H, W] float32 in [0, 1]. */
export function imageTensor(img: RgbImage): Tensor {
  // float32(u8) / 255 is elementwise: transposing first (cheaper) gives the same values.
  return torch.tidy(() =>
    torch.fromTypedArray(img.data, [img.height, img.width, 3], { dtype: 'uint8' }).permute(2, 0, 1).float().div_(255).contiguous(),
  );
}

/** The decoded raw mask (labels.ts) as [7, H, W] float32. */
export function rawMaskTensor(mask: Uint8Array, height: number, width: number): Tensor {
  return torch.tidy(() => torch.fromTypedArray(mask, [mask.length / (height * width), height, width], { dtype: 'uint8' }).float());
}

/** Bilinear resize of [C, H, W] to `size` (H, W): half-pixel centres, no antialias, as cv2.resize INTER_LINEAR. */
export function resizeBilinear(t: Tensor, size: Size): Tensor {
  return torch.tidy(() =>
    torch.nn.functional.interpolate(t.unsqueeze(0), { size: [size[0], size[1]], mode: 'bilinear', align_corners: false }).squeeze(0),
  );
}

/** [7, H, W] raw -> [4, H, W] final: villit = clip(villi + villiu + stem, 0, 1), thrombus, bloodvessel, cellgroup. */
export function finalMask(raw: Tensor): Tensor {
  return torch.tidy(() => {
    const channels = FINAL_SOURCES.map((sources) => {
      // Summed left to right, as the reference's numpy expression.
      const [first, ...rest] = sources.map((k) => raw.select(0, k));
      const sum = rest.reduce((acc, c) => acc.add(c), first as Tensor);
      return sources.length > 1 ? sum.clamp(0, 1) : sum;
    });
    return torch.stack(channels, 0);
  });
}

/** Whether the last two dims of t are `size` (bilinear resizing to the same size is an exact identity). */
export const sameSize = (t: Tensor, size: Size): boolean => t.shape.at(-2) === size[0] && t.shape.at(-1) === size[1];

/** The training target [4, size]: resize the raw mask (skipped at that size), then merge into the final channels. */
export function semMask(raw: Tensor, size: Size): Tensor {
  return torch.tidy(() => finalMask(sameSize(raw, size) ? raw : resizeBilinear(raw, size)));
}
