// TinyViT's window attention (from LeViT): LayerNorm inside, per-head q/k/v interleaved in one qkv
// projection, and a learned bias per head for every |dy|,|dx| offset between two window positions.
import * as torch from '../../torch/index.js';

const { nn } = torch;
type Tensor = torch.Tensor;

/** For an h x w window: the offset index of every (point, point) pair, offsets numbered by first
 *  appearance in row-major order, and the number of distinct offsets. */
export function attentionOffsets(h: number, w: number): { idxs: Int32Array; count: number } {
  const n = h * w;
  const ids = new Map<number, number>();
  const idxs = new Int32Array(n * n);
  for (let p1 = 0; p1 < n; p1++) {
    for (let p2 = 0; p2 < n; p2++) {
      const key = Math.abs(Math.floor(p1 / w) - Math.floor(p2 / w)) * w + Math.abs((p1 % w) - (p2 % w));
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
      }
      idxs[p1 * n + p2] = id;
    }
  }
  return { idxs, count: ids.size };
}

export class Attention extends nn.Module {
  attention_biases: torch.nn.Parameter; // [heads, #offsets]
  norm: torch.nn.LayerNorm;
  qkv: torch.nn.Linear;
  proj: torch.nn.Linear;
  readonly attention_bias_idxs: Tensor; // [N, N] int64, a non-persistent buffer
  readonly scale: number;
  readonly d: number;
  readonly dh: number;
  /** bias()'s table, reused while attention_biases is unchanged. */
  readonly #bias = this.derived<[Tensor]>();

  constructor(
    dim: number,
    readonly key_dim: number,
    readonly num_heads = 8,
    attn_ratio = 4,
    resolution: readonly [number, number] = [14, 14],
  ) {
    super();
    this.scale = key_dim ** -0.5;
    this.d = Math.floor(attn_ratio * key_dim);
    this.dh = this.d * num_heads;
    const { idxs, count } = attentionOffsets(resolution[0], resolution[1]);
    const n = resolution[0] * resolution[1];
    this.attention_biases = torch.tidy(() => new nn.Parameter(torch.zeros([num_heads, count])));
    this.norm = new nn.LayerNorm(dim);
    this.qkv = new nn.Linear(dim, this.dh + 2 * key_dim * num_heads);
    this.proj = new nn.Linear(this.dh, dim);
    this.attention_bias_idxs = this.register_buffer(
      'attention_bias_idxs',
      torch.tidy(() => torch.fromTypedArray(idxs, [n, n]).long()),
      false,
    );
  }

  /** The learned biases gathered for every pair of window positions: [heads, N, N]. Without grad it is a
   *  cached tensor the module owns: do not dispose it. */
  bias(): Tensor {
    const idxs = this.attention_bias_idxs;
    const n = idxs.size(0);
    const [table] = this.#bias.get([this.attention_biases, idxs], () => [
      this.attention_biases.index_select(1, idxs.view(-1)).view(this.num_heads, n, n),
    ]);
    return table;
  }

  /** [B, N, C] with N the window's positions -> [B, N, C]. */
  forward(x: Tensor): Tensor {
    const { norm, qkv, proj, num_heads, key_dim, d, dh, scale } = this;
    return torch.tidy(() => {
      const [b, n] = x.shape as [number, number];
      const [q, k, v] = torch
        .pipe(
          x,
          (t) => norm.forward(t),
          (t) => qkv.forward(t),
        )
        .view(b, n, num_heads, -1)
        .permute(0, 2, 1, 3)
        .split([key_dim, key_dim, d], 3) as [Tensor, Tensor, Tensor]; // [B, heads, N, d]
      // one step per op: a view left in the scope would keep its base's storage alive past its last use
      return torch.pipe(
        q,
        (t) => t.matmul(k.transpose(-2, -1)),
        (t) => torch.op('add.Tensor', this.bias(), t, scale),
        (t) => t.softmax(-1),
        (t) => t.matmul(v),
        (t) => t.transpose(1, 2),
        (t) => t.reshape(b, n, dh),
        (t) => proj.forward(t),
      );
    });
  }
}
