// Building blocks several MMFD networks share (SAM's modeling/common.py).
import * as torch from '../torch/index.js';

const { nn } = torch;
type Tensor = torch.Tensor;

/** x + f(x), freeing f(x) right after the add, as PyTorch's `x + f(x)` does (tidy() would keep it to the scope's end). */
export function residual(x: Tensor, f: (x: Tensor) => Tensor): Tensor {
  const r = f(x);
  const y = x.add(r);
  if (r !== x) r.dispose();
  return y;
}

/**
 * f over a batch one image at a time, the results concatenated: for the high-resolution stages of a network in
 * eval mode, whose activations at batch 4 outgrow the cache (one image's pass through them stays in it, and costs
 * less per image). Not for training: BatchNorm's statistics there are the whole batch's.
 */
export function imageByImage(x: Tensor, f: (x: Tensor) => Tensor): Tensor {
  const n = x.size(0);
  if (n === 1) return f(x);
  return torch.tidy(() =>
    torch.cat(
      Array.from({ length: n }, (_, k) => torch.tidy(() => f(x.narrow(0, k, 1)))),
      0,
    ),
  );
}

/** LayerNorm over the channel dim of an NCHW map, as SAM's LayerNorm2d (biased variance). */
export class LayerNorm2d extends nn.Module {
  weight: torch.nn.Parameter;
  bias: torch.nn.Parameter;

  constructor(
    readonly num_channels: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = torch.tidy(() => new nn.Parameter(torch.ones([num_channels])));
    this.bias = torch.tidy(() => new nn.Parameter(torch.zeros([num_channels])));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const u = x.mean(1, true);
      const d = x.sub(u);
      const s = d.square().mean(1, true);
      const y = d.div(s.add(this.eps).sqrt());
      return y.mul(this.weight.reshape(-1, 1, 1)).add(this.bias.reshape(-1, 1, 1));
    });
  }
}

/** Linear -> activation -> Linear, SAM's MLPBlock (keys lin1, lin2). */
export class MLPBlock extends nn.Module {
  lin1: torch.nn.Linear;
  lin2: torch.nn.Linear;

  constructor(
    embedding_dim: number,
    mlp_dim: number,
    readonly act: (x: Tensor) => Tensor = (x) => nn.functional.gelu(x),
  ) {
    super();
    this.lin1 = new nn.Linear(embedding_dim, mlp_dim);
    this.lin2 = new nn.Linear(mlp_dim, embedding_dim);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.lin2.forward(this.act(this.lin1.forward(x))));
  }
}
