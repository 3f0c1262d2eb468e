// TinyViT stage 0: MBConv blocks, then PatchMerging.
import * as torch from '../../torch/index.js';
import { MBConv } from './mbconv.js';
import type { PatchMerging } from './patch_merging.js';

const { nn } = torch;

export class ConvLayer extends nn.Module {
  blocks: torch.nn.ModuleList<MBConv>;
  downsample: PatchMerging | undefined;

  constructor(dim: number, depth: number, conv_expand_ratio: number, downsample?: PatchMerging) {
    super();
    this.blocks = new nn.ModuleList(Array.from({ length: depth }, () => new MBConv(dim, dim, conv_expand_ratio)));
    this.downsample = downsample;
  }

  /** [B, C, H, W] -> tokens [B, H'W', C'] (or [B, C, H, W] without downsampling). */
  forward(x: torch.Tensor): torch.Tensor {
    const steps = [...this.blocks, ...(this.downsample ? [this.downsample] : [])].map((m) => (t: torch.Tensor) => m.forward(t));
    return torch.tidy(() => torch.pipe(x, ...steps));
  }
}
