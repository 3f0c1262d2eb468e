// FuseFin 'sum' (FuseFin_Select -> FuseFin_Sum): a FinBlock per model brings its NHWC map to the
// MedSAM grid and the output width; the results are summed and refined by conv3x3 -> GELU -> conv3x3
// -> LayerNorm2d into the image embedding X_f.
import * as torch from '../../torch/index.js';
import { LayerNorm2d, MLPBlock } from '../common.js';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;

export interface FinBlockOptions {
  embed_dim: number;
  out_chans: number;
  /** The grid every model is resized to (the MedSAM token grid), [h, w]. */
  out_size: readonly [number, number];
  /** Hidden width of the MLP (default embed_dim / 4). */
  mlp_hidden?: number;
  layernorm2d_eps?: number;
}

/** NHWC [B, h, w, D] -> bilinear to out_size -> LayerNorm2d -> MLP (no residual) -> Linear: [B, s, s, out]. */
export class FinBlock extends nn.Module {
  norm: LayerNorm2d;
  proj1: MLPBlock;
  proj2: torch.nn.Linear;
  readonly out_size: [number, number];

  constructor(o: FinBlockOptions) {
    super();
    this.out_size = [o.out_size[0], o.out_size[1]];
    this.norm = new LayerNorm2d(o.embed_dim, o.layernorm2d_eps ?? 1e-6);
    this.proj1 = new MLPBlock(o.embed_dim, o.mlp_hidden ?? Math.trunc(o.embed_dim / 4));
    this.proj2 = new nn.Linear(o.embed_dim, o.out_chans);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const y = F.interpolate(x.permute(0, 3, 1, 2), { size: this.out_size, mode: 'bilinear', align_corners: false }); // [B, D, s, s]
      const z = this.norm.forward(y).permute(0, 2, 3, 1); // [B, s, s, D]
      return this.proj2.forward(this.proj1.forward(z)); // [B, s, s, out]
    });
  }
}

export interface FuseFinOptions extends FinBlockOptions {
  num_models: number;
}

/** The per-model FinBlocks (key blocks.<m>). */
export class FinBlocks extends nn.Module {
  blocks: torch.nn.ModuleList<FinBlock>;

  constructor(o: FuseFinOptions) {
    super();
    this.blocks = new nn.ModuleList(Array.from({ length: o.num_models }, () => new FinBlock(o)));
  }

  forward(xs: readonly Tensor[]): Tensor[] {
    return xs.map((x, m) => this.blocks.at(m).forward(x));
  }
}

export class FuseFinSum extends nn.Module {
  fin_fuser1: FinBlocks;
  fin_fuser2: torch.nn.Sequential;

  constructor(o: FuseFinOptions) {
    super();
    const c = o.out_chans;
    this.fin_fuser1 = new FinBlocks(o);
    this.fin_fuser2 = new nn.Sequential(
      new nn.Conv2d(c, c, 3, { padding: 1, bias: false }),
      new nn.GELU(),
      new nn.Conv2d(c, c, 3, { padding: 1, bias: false }),
      new LayerNorm2d(c, o.layernorm2d_eps ?? 1e-6),
    );
  }

  /** One NHWC map per model -> X_f [B, out, s, s] (NCHW). */
  forward(xs: readonly Tensor[]): Tensor {
    return torch.tidy(() => {
      const ys = this.fin_fuser1.forward(xs);
      const sum = ys.reduce((a, b) => a.add(b)).permute(0, 3, 1, 2); // [B, out, s, s]
      return this.fin_fuser2.forward(sum);
    });
  }
}

/** FuseFin_Select: the final fuser under the key fin_fuser. */
export class FuseFin extends nn.Module {
  fin_fuser: FuseFinSum;

  constructor(o: FuseFinOptions) {
    super();
    this.fin_fuser = new FuseFinSum(o);
  }

  forward(xs: readonly Tensor[]): Tensor {
    return this.fin_fuser.forward(xs);
  }
}
