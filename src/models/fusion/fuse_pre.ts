// FusePre, the channel alignment block: per model LayerNorm2d(c) -> Linear(c, 2c) -> GELU ->
// Linear(2c, D), so every encoder map gets the fusion width D (keys preblocks.<m>.norm / .proj).
import * as torch from '../../torch/index.js';
import { LayerNorm2d } from '../common.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class PreBlock extends nn.Module {
  norm: LayerNorm2d;
  proj: torch.nn.Sequential;

  constructor(in_chans: number, embed_dim: number, layernorm2d_eps = 1e-6) {
    super();
    this.norm = new LayerNorm2d(in_chans, layernorm2d_eps);
    this.proj = new nn.Sequential(new nn.Linear(in_chans, 2 * in_chans), new nn.GELU(), new nn.Linear(2 * in_chans, embed_dim));
  }

  /** [B, c, h, w] -> [B, D, h, w] */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const y = this.norm.forward(x).permute(0, 2, 3, 1); // [B, h, w, c]
      return this.proj.forward(y).permute(0, 3, 1, 2);
    });
  }
}

export interface FusePreOptions {
  /** Channels of each model's map, in model order. */
  in_chans: readonly number[];
  embed_dim: number;
  layernorm2d_eps?: number;
}

export class FusePre extends nn.Module {
  preblocks: torch.nn.ModuleList<PreBlock>;

  constructor(o: FusePreOptions) {
    super();
    this.preblocks = new nn.ModuleList(o.in_chans.map((c) => new PreBlock(c, o.embed_dim, o.layernorm2d_eps)));
  }

  /** One NCHW map per model -> the same maps at width D (NCHW). */
  forward(xs: readonly Tensor[]): Tensor[] {
    if (xs.length !== this.preblocks.length) throw new Error(`FusePre: ${xs.length} maps for ${this.preblocks.length} models`);
    return xs.map((x, m) => this.preblocks.at(m).forward(x));
  }
}
