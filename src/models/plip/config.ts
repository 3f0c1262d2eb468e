// The Hugging Face CLIP `vision_config` fields the vision tower is built from, and its activations.
import * as torch from '../../torch/index.js';

type Tensor = torch.Tensor;

/** HF `CLIPVisionConfig` (as in config.json's `vision_config`); image_size is overridden by the caller. */
export interface CLIPVisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  patch_size: number;
  hidden_act: string;
  layer_norm_eps: number;
  num_channels?: number;
  image_size?: number;
}

/** HF ACT2FN for the activations CLIP checkpoints use. */
export function activation(name: string): (x: Tensor) => Tensor {
  switch (name) {
    case 'quick_gelu':
      return (x) => torch.tidy(() => x.mul(x.mul(1.702).sigmoid()));
    case 'gelu':
      return (x) => torch.nn.functional.gelu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return (x) => torch.nn.functional.gelu(x, 'tanh');
    default:
      throw new Error(`CLIP: unsupported hidden_act '${name}' (quick_gelu, gelu, gelu_new, gelu_pytorch_tanh)`);
  }
}
