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
    return torch.tidy(() => {
      let y = x;
      for (const blk of this.blocks) y = blk.forward(y);
      return this.downsample ? this.downsample.forward(y) : y;
    });
  }
}
