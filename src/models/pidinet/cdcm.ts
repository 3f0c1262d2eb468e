// CDCM, the compact dilation convolution module: ReLU -> 1x1 conv -> sum of four dilated 3x3 convs (d 5, 7, 9, 11).
import * as torch from '../../torch/index.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CDCM extends nn.Module {
  conv1: torch.nn.Conv2d;
  conv2_1: torch.nn.Conv2d;
  conv2_2: torch.nn.Conv2d;
  conv2_3: torch.nn.Conv2d;
  conv2_4: torch.nn.Conv2d;

  constructor(in_channels: number, out_channels: number) {
    super();
    this.conv1 = new nn.Conv2d(in_channels, out_channels, 1);
    const dilated = (d: number) => new nn.Conv2d(out_channels, out_channels, 3, { dilation: d, padding: d, bias: false });
    this.conv2_1 = dilated(5);
    this.conv2_2 = dilated(7);
    this.conv2_3 = dilated(9);
    this.conv2_4 = dilated(11);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const y = this.conv1.forward(x.relu());
      return this.conv2_1.forward(y).add_(this.conv2_2.forward(y)).add_(this.conv2_3.forward(y)).add_(this.conv2_4.forward(y));
    });
  }
}
