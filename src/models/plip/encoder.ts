// CLIPEncoder: the stack of encoder layers (keys encoder.layers.N.*).
import * as torch from '../../torch/index.js';
import type { CLIPVisionConfig } from './config.js';
import { CLIPEncoderLayer } from './encoder_layer.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CLIPEncoder extends nn.Module {
  layers: torch.nn.ModuleList<CLIPEncoderLayer>;

  constructor(config: CLIPVisionConfig) {
    super();
    this.layers = new nn.ModuleList(Array.from({ length: config.num_hidden_layers }, () => new CLIPEncoderLayer(config)));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      let h = x;
      for (const layer of this.layers) h = layer.forward(h);
      return h;
    });
  }
}
