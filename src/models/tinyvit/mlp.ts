// TinyViT's Mlp: LayerNorm -> fc1 -> GELU -> fc2 (the norm sits inside, keys norm, fc1, fc2).
import * as torch from '../../torch/index.js';

const { nn } = torch;
const F = torch.nn.functional;

export class Mlp extends nn.Module {
  norm: torch.nn.LayerNorm;
  fc1: torch.nn.Linear;
  fc2: torch.nn.Linear;

  constructor(in_features: number, hidden_features: number, out_features = in_features) {
    super();
    this.norm = new nn.LayerNorm(in_features);
    this.fc1 = new nn.Linear(in_features, hidden_features);
    this.fc2 = new nn.Linear(hidden_features, out_features);
  }

  forward(x: torch.Tensor): torch.Tensor {
    const { norm, fc1, fc2 } = this;
    return torch.tidy(() =>
      torch.pipe(
        x,
        (t) => norm.forward(t),
        (t) => fc1.forward(t),
        F.gelu,
        (t) => fc2.forward(t),
      ),
    );
  }
}
