// TinyViT's PatchMerging: 1x1 Conv-BN -> GELU -> depthwise 3x3 Conv-BN (stride 2, or 1 where MobileSAM
// keeps the resolution) -> GELU -> 1x1 Conv-BN; returns tokens.
import * as torch from '../../torch/index.js';
import { Conv2dBN } from './conv2d_bn.js';

const { nn } = torch;
const F = torch.nn.functional;

/** MobileSAM's rule: the merge into these widths keeps the resolution (stride 1). */
export function mobilesamMergeStride(out_dim: number): number {
  return out_dim === 320 || out_dim === 448 || out_dim === 576 ? 1 : 2;
}

export class PatchMerging extends nn.Module {
  conv1: Conv2dBN;
  conv2: Conv2dBN;
  conv3: Conv2dBN;

  constructor(
    readonly input_resolution: readonly [number, number],
    dim: number,
    out_dim: number,
    readonly stride = 2,
  ) {
    super();
    this.conv1 = new Conv2dBN(dim, out_dim, 1, 1, 0);
    this.conv2 = new Conv2dBN(out_dim, out_dim, 3, stride, 1, 1, out_dim);
    this.conv3 = new Conv2dBN(out_dim, out_dim, 1, 1, 0);
  }

  /** [B, C, H, W] or tokens [B, HW, C] -> tokens [B, H'W', out_dim]. */
  forward(x: torch.Tensor): torch.Tensor {
    return torch.tidy(() => {
      const [H, W] = this.input_resolution;
      const { conv1, conv2, conv3 } = this;
      return torch.pipe(
        x,
        (t) => (t.ndim === 3 ? t.view(t.size(0), H, W, -1).permute(0, 3, 1, 2) : t),
        (t) => conv1.forward(t),
        F.gelu,
        (t) => conv2.forward(t),
        F.gelu,
        (t) => conv3.forward(t),
        (t) => t.flatten(2).transpose(1, 2),
      );
    });
  }
}
