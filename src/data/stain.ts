// Colour deconvolution of H&E(-DAB) images (Ruifrok & Johnston 2001), with skimage's matrix and
// units: rgb2hed gives stain amounts s = (ln(rgb) / ln(1e-6)) · M⁻¹ and hed2rgb inverts it, so
// HEBDecompose (the reference's rgb2hed) and the stain jitter share one definition.
import * as torch from '../torch/index.js';

type Tensor = torch.Tensor;
type Mat3 = readonly [readonly number[], readonly number[], readonly number[]];

/** Rows: the RGB optical-density vectors of haematoxylin, eosin and DAB (skimage.color.rgb_from_hed). */
export const RGB_FROM_HED: Mat3 = [
  [0.65, 0.7, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];

function invert3(m: Mat3): number[][] {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, i] = m[2];
  const [A, B, C] = [e! * i! - f! * h!, -(d! * i! - f! * g!), d! * h! - e! * g!];
  const det = a! * A + b! * B + c! * C;
  return [
    [A / det, -(b! * i! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * i! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}

export const HED_FROM_RGB: Mat3 = invert3(RGB_FROM_HED) as unknown as Mat3;

/** skimage's floor on intensities and its optical-density scale. */
const EPS = 1e-6;
const LOG_ADJUST = Math.log(EPS);

/** Applies a 3x3 matrix along the channel axis: out[j] = Σ_i x[i] m[i][j], for x [3, H, W]. */
function mixChannels(x: Tensor, m: Mat3): Tensor {
  return torch.tidy(() => {
    const mt = torch.tensor(m.map((r) => [...r])).t(); // [3 out, 3 in]
    return mt.matmul(x.reshape(3, -1)).reshape(x.shape);
  });
}

/** Stain amounts [3, H, W] (H, E, DAB) of an RGB image in [0, 1]; negative amounts are kept when `clipNegative` is false. */
export function rgb2hed(rgb: Tensor, clipNegative = true): Tensor {
  return torch.tidy(() => {
    const s = mixChannels(rgb.clamp(EPS).log().div(LOG_ADJUST), HED_FROM_RGB);
    return clipNegative ? s.clamp(0) : s;
  });
}

/** The RGB image in [0, 1] of stain amounts (skimage.color.hed2rgb). */
export function hed2rgb(hed: Tensor): Tensor {
  return torch.tidy(() => mixChannels(hed.mul(LOG_ADJUST), RGB_FROM_HED).exp().clamp(0, 1));
}
