// TinyViT's MBConv: 1x1 expand -> depthwise 3x3 -> 1x1 project (BN init 0), residual, GELU.
import * as torch from '../../torch/index.js';
import { Conv2dBN } from './conv2d_bn.js';

const { nn } = torch;
const F = torch.nn.functional;

export class MBConv extends nn.Module {
  conv1: Conv2dBN;
  conv2: Conv2dBN;
  conv3: Conv2dBN;

  constructor(in_chans: number, out_chans: number, expand_ratio: number) {
    super();
    const hidden = Math.floor(in_chans * expand_ratio);
    this.conv1 = new Conv2dBN(in_chans, hidden, 1);
    this.conv2 = new Conv2dBN(hidden, hidden, 3, 1, 1, 1, hidden);
    this.conv3 = new Conv2dBN(hidden, out_chans, 1, 1, 0, 1, 1, 0.0);
  }

  forward(x: torch.Tensor): torch.Tensor {
    const { conv1, conv2, conv3 } = this;
    return torch.tidy(() =>
      torch.pipe(
        x,
        (t) => conv1.forward(t),
        F.gelu,
        (t) => conv2.forward(t),
        F.gelu,
        (t) => conv3.forward(t),
        (t) => t.add(x),
        F.gelu,
      ),
    );
  }
}
