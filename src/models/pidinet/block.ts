// PDCBlock: x + conv1x1(ReLU(depthwise pdc3x3(x))); the stride-2 variant max-pools first and adds a
// 1x1 shortcut (with bias) to change the width.
import * as torch from '../../torch/index.js';
import { PdcConv2d, type PdcType } from './pdc.js';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;

export class PDCBlock extends nn.Module {
  shortcut: torch.nn.Conv2d | undefined;
  conv1: PdcConv2d;
  conv2: torch.nn.Conv2d;

  constructor(
    pdc: PdcType,
    inplane: number,
    ouplane: number,
    readonly stride = 1,
  ) {
    super();
    if (stride > 1) this.shortcut = new nn.Conv2d(inplane, ouplane, 1);
    this.conv1 = new PdcConv2d(pdc, inplane, inplane, 3, { padding: 1, groups: inplane });
    this.conv2 = new nn.Conv2d(inplane, ouplane, 1, { bias: false });
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const xin = this.stride > 1 ? F.max_pool2d(x, 2, { stride: 2 }) : x; // [B, C, H/2, W/2]
      const y = this.conv2.forward(this.conv1.forward(xin).relu());
      return y.add_(this.shortcut ? this.shortcut.forward(xin) : xin);
    });
  }
}
