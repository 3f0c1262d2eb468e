// CSAM, the compact spatial attention module: x * sigmoid(conv3x3(conv1x1(ReLU x))), 4 hidden channels.
import * as torch from '../../torch/index.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CSAM extends nn.Module {
  conv1: torch.nn.Conv2d;
  conv2: torch.nn.Conv2d;

  constructor(channels: number, mid_channels = 4) {
    super();
    this.conv1 = new nn.Conv2d(channels, mid_channels, 1);
    this.conv2 = new nn.Conv2d(mid_channels, 1, 3, { padding: 1, bias: false });
    nn.init.constant_(this.conv1.bias!, 0);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => x.mul(this.conv2.forward(this.conv1.forward(x.relu())).sigmoid())); // gate [B, 1, H, W]
  }
}
