// CLIPEncoderLayer, pre-LN: x + attn(LN1 x), then x + MLP(LN2 x).
import * as torch from '../../torch/index.js';
import { CLIPAttention } from './attention.js';
import type { CLIPVisionConfig } from './config.js';
import { CLIPMLP } from './mlp.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CLIPEncoderLayer extends nn.Module {
  self_attn: CLIPAttention;
  layer_norm1: torch.nn.LayerNorm;
  mlp: CLIPMLP;
  layer_norm2: torch.nn.LayerNorm;

  constructor(config: CLIPVisionConfig) {
    super();
    this.self_attn = new CLIPAttention(config.hidden_size, config.num_attention_heads);
    this.layer_norm1 = new nn.LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.mlp = new CLIPMLP(config.hidden_size, config.intermediate_size, config.hidden_act);
    this.layer_norm2 = new nn.LayerNorm(config.hidden_size, config.layer_norm_eps);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const h = x.add(this.self_attn.forward(this.layer_norm1.forward(x)));
      return h.add(this.mlp.forward(this.layer_norm2.forward(h)));
    });
  }
}
