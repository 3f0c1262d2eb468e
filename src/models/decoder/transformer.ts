// SAM's TwoWayTransformer: class tokens and image tokens attend to each other in both directions.
import * as torch from '../../torch/index.js';
import { MLPBlock } from '../common.js';

const { nn } = torch;
type Tensor = torch.Tensor;

/** Multi-head attention whose projections may shrink the width by downsample_rate. */
export class Attention extends nn.Module {
  q_proj: torch.nn.Linear;
  k_proj: torch.nn.Linear;
  v_proj: torch.nn.Linear;
  out_proj: torch.nn.Linear;
  readonly internal_dim: number;

  constructor(
    readonly embedding_dim: number,
    readonly num_heads: number,
    downsample_rate = 1,
  ) {
    super();
    this.internal_dim = Math.floor(embedding_dim / downsample_rate);
    if (this.internal_dim % num_heads) throw new Error(`Attention: ${num_heads} heads do not divide width ${this.internal_dim}`);
    this.q_proj = new nn.Linear(embedding_dim, this.internal_dim);
    this.k_proj = new nn.Linear(embedding_dim, this.internal_dim);
    this.v_proj = new nn.Linear(embedding_dim, this.internal_dim);
    this.out_proj = new nn.Linear(this.internal_dim, embedding_dim);
  }

  /** [B, N, C] -> [B, heads, N, C/heads] */
  #heads(x: Tensor): Tensor {
    const [b, n] = x.shape as [number, number];
    return x.view(b, n, this.num_heads, -1).transpose(1, 2);
  }

  forward(q: Tensor, k: Tensor, v: Tensor): Tensor {
    return torch.tidy(() => {
      const [b, n] = q.shape as [number, number];
      const qh = this.#heads(this.q_proj.forward(q));
      const kh = this.#heads(this.k_proj.forward(k));
      const vh = this.#heads(this.v_proj.forward(v));
      const attn = qh
        .matmul(kh.transpose(-2, -1))
        .div(Math.sqrt(this.internal_dim / this.num_heads))
        .softmax(-1);
      const out = attn.matmul(vh).transpose(1, 2).reshape(b, n, this.internal_dim);
      return this.out_proj.forward(out);
    });
  }
}

export interface TwoWayBlockOptions {
  embedding_dim: number;
  num_heads: number;
  mlp_dim: number;
  attention_downsample_rate: number;
  skip_first_layer_pe: boolean;
}

/** Token self-attention, token->image cross-attention, token MLP, image->token cross-attention. */
export class TwoWayAttentionBlock extends nn.Module {
  self_attn: Attention;
  norm1: torch.nn.LayerNorm;
  cross_attn_token_to_image: Attention;
  norm2: torch.nn.LayerNorm;
  mlp: MLPBlock;
  norm3: torch.nn.LayerNorm;
  norm4: torch.nn.LayerNorm;
  cross_attn_image_to_token: Attention;
  readonly skip_first_layer_pe: boolean;

  constructor(o: TwoWayBlockOptions) {
    super();
    const d = o.embedding_dim;
    this.self_attn = new Attention(d, o.num_heads);
    this.norm1 = new nn.LayerNorm(d);
    this.cross_attn_token_to_image = new Attention(d, o.num_heads, o.attention_downsample_rate);
    this.norm2 = new nn.LayerNorm(d);
    this.mlp = new MLPBlock(d, o.mlp_dim, (x) => nn.functional.relu(x));
    this.norm3 = new nn.LayerNorm(d);
    this.norm4 = new nn.LayerNorm(d);
    this.cross_attn_image_to_token = new Attention(d, o.num_heads, o.attention_downsample_rate);
    this.skip_first_layer_pe = o.skip_first_layer_pe;
  }

  forward(queries: Tensor, keys: Tensor, query_pe: Tensor, key_pe: Tensor): [Tensor, Tensor] {
    return torch.tidy(() => {
      let qs: Tensor;
      if (this.skip_first_layer_pe) qs = this.self_attn.forward(queries, queries, queries);
      else {
        const q = queries.add(query_pe);
        qs = queries.add(this.self_attn.forward(q, q, queries));
      }
      qs = this.norm1.forward(qs);

      const kp = keys.add(key_pe);
      qs = this.norm2.forward(qs.add(this.cross_attn_token_to_image.forward(qs.add(query_pe), kp, keys)));
      qs = this.norm3.forward(qs.add(this.mlp.forward(qs)));

      const ks = this.norm4.forward(keys.add(this.cross_attn_image_to_token.forward(kp, qs.add(query_pe), qs)));
      return [qs, ks];
    });
  }
}

export interface TwoWayTransformerOptions {
  depth: number;
  embedding_dim: number;
  num_heads: number;
  mlp_dim: number;
  attention_downsample_rate?: number;
}

export class TwoWayTransformer extends nn.Module {
  layers: torch.nn.ModuleList<TwoWayAttentionBlock>;
  final_attn_token_to_image: Attention;
  norm_final_attn: torch.nn.LayerNorm;
  readonly embedding_dim: number;

  constructor(o: TwoWayTransformerOptions) {
    super();
    const rate = o.attention_downsample_rate ?? 2;
    this.embedding_dim = o.embedding_dim;
    this.layers = new nn.ModuleList(
      Array.from(
        { length: o.depth },
        (_, i) =>
          new TwoWayAttentionBlock({
            embedding_dim: o.embedding_dim,
            num_heads: o.num_heads,
            mlp_dim: o.mlp_dim,
            attention_downsample_rate: rate,
            skip_first_layer_pe: i === 0,
          }),
      ),
    );
    this.final_attn_token_to_image = new Attention(o.embedding_dim, o.num_heads, rate);
    this.norm_final_attn = new nn.LayerNorm(o.embedding_dim);
  }

  /** image [B, C, h, w], its PE [B, C, h, w], tokens [B, N, C] -> (tokens [B, N, C], image tokens [B, hw, C]). */
  forward(image_embedding: Tensor, image_pe: Tensor, point_embedding: Tensor): [Tensor, Tensor] {
    return torch.tidy(() => {
      const keys0 = image_embedding.flatten(2).permute(0, 2, 1);
      const key_pe = image_pe.flatten(2).permute(0, 2, 1);
      let queries = point_embedding;
      let keys = keys0;
      for (const layer of this.layers) [queries, keys] = layer.forward(queries, keys, point_embedding, key_pe);
      const attn = this.final_attn_token_to_image.forward(queries.add(point_embedding), keys.add(key_pe), keys);
      return [this.norm_final_attn.forward(queries.add(attn)), keys];
    });
  }
}
