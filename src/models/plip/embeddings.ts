// CLIPVisionEmbeddings: patch conv (no bias), class token first, learned position embedding.
import * as torch from '../../torch/index.js';
import type { CLIPVisionConfig } from './config.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CLIPVisionEmbeddings extends nn.Module {
  class_embedding: torch.nn.Parameter;
  patch_embedding: torch.nn.Conv2d;
  position_embedding: torch.nn.Embedding;
  readonly num_patches: number;
  readonly num_positions: number;
  readonly position_ids: Tensor;

  constructor(config: CLIPVisionConfig, image_size: number) {
    super();
    const dim = config.hidden_size;
    const p = config.patch_size;
    this.class_embedding = torch.tidy(() => new nn.Parameter(torch.randn([dim]).mul(dim ** -0.5)));
    this.patch_embedding = new nn.Conv2d(config.num_channels ?? 3, dim, p, { stride: p, bias: false });
    this.num_patches = Math.floor(image_size / p) ** 2;
    this.num_positions = this.num_patches + 1;
    this.position_embedding = new nn.Embedding(this.num_positions, dim);
    this.position_ids = this.register_buffer('position_ids', torch.arange(this.num_positions).unsqueeze(0), false);
  }

  forward(pixel_values: Tensor): Tensor {
    return torch.tidy(() => {
      const B = pixel_values.size(0);
      const patches = this.patch_embedding.forward(pixel_values).flatten(2).transpose(1, 2); // [B, g*g, D]
      const cls = this.class_embedding.expand(B, 1, -1);
      return torch.cat([cls, patches], 1).add(this.position_embedding.forward(this.position_ids)); // [B, 1+g*g, D]
    });
  }
}
