// TinyViT's Conv2d_BN: a bias-free convolution followed by batch norm (keys `c.*`, `bn.*`).
import * as torch from '../../torch/index.js';

const { nn } = torch;

export class Conv2dBN extends nn.Module {
  c: torch.nn.Conv2d;
  bn: torch.nn.BatchNorm2d;
  /** The folded weight and bias, reused while the five tensors they come from are unchanged. */
  readonly #folded = this.derived<[torch.Tensor, torch.Tensor]>();

  constructor(a: number, b: number, ks = 1, stride = 1, pad = 0, dilation = 1, groups = 1, bn_weight_init = 1) {
    super();
    this.c = new nn.Conv2d(a, b, ks, { stride, padding: pad, dilation, groups, bias: false });
    this.bn = new nn.BatchNorm2d(b);
    nn.init.constant_(this.bn.weight!, bn_weight_init);
  }

  forward(x: torch.Tensor): torch.Tensor {
    return torch.tidy(() => {
      const { c, bn } = this;
      if (this.training || !bn.running_mean || !bn.running_var || !bn.weight || !bn.bias)
        return torch.pipe(
          x,
          (t) => c.forward(t),
          (t) => bn.forward(t),
        );
      // Eval: BN folded into the convolution (the reference's Conv2d_BN.fuse), one pass over the activations.
      const { weight, bias, running_mean, running_var } = bn;
      const [w, b] = this.#folded.get([c.weight, weight, bias, running_mean, running_var], () => {
        const s = weight.div(running_var.add(bn.eps).sqrt());
        return [c.weight.mul(s.view(-1, 1, 1, 1)), bias.sub(running_mean.mul(s))];
      });
      return nn.functional.conv2d(x, w, b, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
    });
  }
}
