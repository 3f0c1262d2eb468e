// SAM's PatchEmbed: one strided convolution, returned channel-last (NHWC), as the ViT blocks expect.
import * as torch from '../../torch/index.js';

const { nn } = torch;

export class PatchEmbed extends nn.Module {
  proj: torch.nn.Conv2d;

  constructor(kernel_size: number, stride: number, in_chans: number, embed_dim: number) {
    super();
    this.proj = new nn.Conv2d(in_chans, embed_dim, kernel_size, { stride });
  }

  forward(x: torch.Tensor): torch.Tensor {
    return torch.tidy(() => this.proj.forward(x).permute(0, 2, 3, 1)); // [B, H/p, W/p, C]
  }
}
