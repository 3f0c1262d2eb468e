// PLIP's vision tower, the reference's CLIPVisionTransformer_my: HF CLIP's vision transformer on x*255
// (no CLIP mean/std), returning the patch tokens after post_layernorm as an NCHW map.
import * as torch from '../../torch/index.js';
import type { CLIPVisionConfig } from './config.js';
import { CLIPVisionEmbeddings } from './embeddings.js';
import { CLIPEncoder } from './encoder.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CLIPVisionTransformer extends nn.Module {
  embeddings: CLIPVisionEmbeddings;
  pre_layrnorm: torch.nn.LayerNorm;
  encoder: CLIPEncoder;
  post_layernorm: torch.nn.LayerNorm;

  /** image_size: the effective input size (the teacher overrides the config's 224 with 512). */
  constructor(
    readonly config: CLIPVisionConfig,
    image_size: number,
  ) {
    super();
    this.embeddings = new CLIPVisionEmbeddings(config, image_size);
    this.pre_layrnorm = new nn.LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.encoder = new CLIPEncoder(config);
    this.post_layernorm = new nn.LayerNorm(config.hidden_size, config.layer_norm_eps);
  }

  /** x: RGB in [0, 1], [B, 3, H, W] -> [B, hidden, H/patch, W/patch]. */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const emb = this.embeddings.forward(x.mul(255)); // [B, 1+g*g, D]
      const last = this.encoder.forward(this.pre_layrnorm.forward(emb));
      const tokens = this.post_layernorm.forward(last.slice(1, 1)); // drop CLS: [B, g*g, D]
      const p = this.config.patch_size;
      return tokens.view(x.size(0), Math.floor(x.size(2) / p), Math.floor(x.size(3) / p), -1).permute(0, 3, 1, 2); // [B, D, g, g]
    });
  }
}
