// CLIPMLP: fc1 -> activation -> fc2.
import * as torch from '../../torch/index.js';
import { activation } from './config.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CLIPMLP extends nn.Module {
  fc1: torch.nn.Linear;
  fc2: torch.nn.Linear;
  readonly act: (x: Tensor) => Tensor;

  constructor(hidden_size: number, intermediate_size: number, hidden_act: string) {
    super();
    this.act = activation(hidden_act);
    this.fc1 = new nn.Linear(hidden_size, intermediate_size);
    this.fc2 = new nn.Linear(intermediate_size, hidden_size);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.fc2.forward(this.act(this.fc1.forward(x))));
  }
}
