// A TinyViT attention stage: TinyViT blocks, then an optional PatchMerging.
import * as torch from '../../torch/index.js';
import type { PatchMerging } from './patch_merging.js';
import { TinyViTBlock, type TinyViTBlockOptions } from './tinyvit_block.js';

const { nn } = torch;

export class BasicLayer extends nn.Module {
  blocks: torch.nn.ModuleList<TinyViTBlock>;
  downsample: PatchMerging | undefined;

  constructor(block: TinyViTBlockOptions, depth: number, downsample?: PatchMerging) {
    super();
    this.blocks = new nn.ModuleList(Array.from({ length: depth }, () => new TinyViTBlock(block)));
    this.downsample = downsample;
  }

  /** tokens [B, HW, C] -> tokens [B, H'W', C']. */
  forward(x: torch.Tensor): torch.Tensor {
    const steps = [...this.blocks, ...(this.downsample ? [this.downsample] : [])].map((m) => (t: torch.Tensor) => m.forward(t));
    return torch.tidy(() => torch.pipe(x, ...steps));
  }
}
