// TinyViT's Conv2d_BN: a bias-free convolution followed by batch norm (keys `c.*`, `bn.*`).
import * as torch from '../../torch/index.js';

const { nn } = torch;

export class Conv2dBN extends nn.Module {
  c: torch.nn.Conv2d;
  bn: torch.nn.BatchNorm2d;

  constructor(a: number, b: number, ks = 1, stride = 1, pad = 0, dilation = 1, groups = 1, bn_weight_init = 1) {
    super();
    this.c = new nn.Conv2d(a, b, ks, { stride, padding: pad, dilation, groups, bias: false });
    this.bn = new nn.BatchNorm2d(b);
    nn.init.constant_(this.bn.weight!, bn_weight_init);
  }

  forward(x: torch.Tensor): torch.Tensor {
    return torch.tidy(() => this.bn.forward(this.c.forward(x)));
  }
}
