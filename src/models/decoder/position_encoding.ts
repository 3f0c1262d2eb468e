// SAM's PositionEmbeddingRandom: random Fourier features of normalised grid coordinates.
import * as torch from '../../torch/index.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class PositionEmbeddingRandom extends nn.Module {
  readonly positional_encoding_gaussian_matrix: Tensor; // G [2, F], a persistent buffer

  constructor(num_pos_feats = 64, scale = 1.0) {
    super();
    const s = scale > 0 ? scale : 1.0;
    this.positional_encoding_gaussian_matrix = this.register_buffer(
      'positional_encoding_gaussian_matrix',
      torch.tidy(() => torch.randn([2, num_pos_feats]).mul(s)),
    );
  }

  /** Points with coordinates in [0, 1]^2, shape [..., 2] (x, y) -> [..., 2F]. */
  pe_encoding(coords: Tensor): Tensor {
    return torch.tidy(() => {
      const c = coords
        .mul(2)
        .sub(1)
        .matmul(this.positional_encoding_gaussian_matrix)
        .mul(2 * Math.PI);
      return torch.cat([c.sin(), c.cos()], -1);
    });
  }

  /** The encoding of an h x w grid of cell centres: [2F, h, w]. */
  forward(size: readonly [number, number]): Tensor {
    const [h, w] = size;
    return torch.tidy(() => {
      const grid = { dtype: 'float32', device: this.positional_encoding_gaussian_matrix.device as torch.Device } as const;
      const y = torch.arange(0, h, 1, grid).add(0.5).div(h);
      const x = torch.arange(0, w, 1, grid).add(0.5).div(w);
      const [yy, xx] = torch.meshgrid([y, x], 'ij') as [Tensor, Tensor];
      return this.pe_encoding(torch.stack([xx, yy], -1)).permute(2, 0, 1);
    });
  }
}
