// TinyViT's patch embedding: Conv-BN (stride 2) -> GELU -> Conv-BN (stride 2), so H/4 x W/4 tokens.
import * as torch from '../../torch/index.js';
import { Conv2dBN } from './conv2d_bn.js';

const { nn } = torch;

export class PatchEmbed extends nn.Module {
  seq: torch.nn.Sequential;

  constructor(in_chans: number, embed_dim: number) {
    super();
    this.seq = new nn.Sequential(
      new Conv2dBN(in_chans, embed_dim / 2, 3, 2, 1),
      new nn.GELU(),
      new Conv2dBN(embed_dim / 2, embed_dim, 3, 2, 1),
    );
  }

  forward(x: torch.Tensor): torch.Tensor {
    return this.seq.forward(x); // [B, C, H/4, W/4]
  }
}
