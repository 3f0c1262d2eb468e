// LoRA on MedSAM's attention projections (SAMed's _LoRA_qkv / LoRA_Sam, as MMFD's
// LoRA_MultiModelSeg_Selective uses it): qkv(x) + [B_q A_q x | 0 | B_v A_v x], no alpha/r scaling.
import * as torch from '../torch/index.js';
import type { ImageEncoderViT } from './medsam/image_encoder.js';

const { nn } = torch;
type Tensor = torch.Tensor;

/** The frozen qkv projection plus low-rank updates of its q and v thirds. Keys: qkv.*, linear_a_q,
 *  linear_b_q, linear_a_v, linear_b_v (their .weight). */
export class LoRAQKV extends nn.Module {
  qkv: torch.nn.Linear;
  linear_a_q: torch.nn.Linear;
  linear_b_q: torch.nn.Linear;
  linear_a_v: torch.nn.Linear;
  linear_b_v: torch.nn.Linear;
  readonly dim: number;

  constructor(
    qkv: torch.nn.Linear,
    linear_a_q: torch.nn.Linear,
    linear_b_q: torch.nn.Linear,
    linear_a_v: torch.nn.Linear,
    linear_b_v: torch.nn.Linear,
  ) {
    super();
    this.qkv = qkv;
    this.linear_a_q = linear_a_q;
    this.linear_b_q = linear_b_q;
    this.linear_a_v = linear_a_v;
    this.linear_b_v = linear_b_v;
    this.dim = qkv.in_features;
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const out = this.qkv.forward(x); // [..., 3·dim]
      const new_q = this.linear_b_q.forward(this.linear_a_q.forward(x));
      const new_v = this.linear_b_v.forward(this.linear_a_v.forward(x));
      out.narrow(-1, 0, this.dim).add_(new_q);
      out.narrow(-1, out.size(-1) - this.dim, this.dim).add_(new_v);
      return out;
    });
  }
}

/**
 * Wraps `blocks[i].attn.qkv` of the given blocks (default: all) in LoRAQKV of rank `rank`, in block
 * order, and initialises as SAMed: every A kaiming_uniform(a = sqrt(5)) in the order q0, v0, q1, v1, ...,
 * every B zero (so the encoder's output is unchanged at first). Attach after loading pretrained weights
 * (the loaders use the plain key names). Returns the wrappers.
 */
export function applyLoRA(encoder: ImageEncoderViT, rank: number, blocks?: readonly number[]): LoRAQKV[] {
  if (!Number.isInteger(rank) || rank < 1) throw new RangeError(`applyLoRA: rank must be a positive integer, got ${rank}`);
  const n = encoder.blocks.length;
  const chosen = blocks ?? Array.from({ length: n }, (_, i) => i);
  for (const i of chosen) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`applyLoRA: block ${i} does not exist (the encoder has ${n})`);
  }
  const wrappers: LoRAQKV[] = [];
  const As: torch.nn.Linear[] = [];
  const Bs: torch.nn.Linear[] = [];
  encoder.blocks.items.forEach((blk, i) => {
    if (!chosen.includes(i)) return;
    const qkv = blk.attn.qkv;
    if (!(qkv instanceof nn.Linear)) throw new Error(`applyLoRA: blocks.${i}.attn.qkv is already wrapped (${qkv.constructor.name})`);
    const dim = qkv.in_features;
    const a_q = new nn.Linear(dim, rank, false);
    const b_q = new nn.Linear(rank, dim, false);
    const a_v = new nn.Linear(dim, rank, false);
    const b_v = new nn.Linear(rank, dim, false);
    As.push(a_q, a_v);
    Bs.push(b_q, b_v);
    const w = new LoRAQKV(qkv, a_q, b_q, a_v, b_v);
    blk.attn.qkv = w;
    wrappers.push(w);
  });
  for (const a of As) nn.init.kaiming_uniform_(a.weight, Math.sqrt(5));
  for (const b of Bs) nn.init.zeros_(b.weight);
  return wrappers;
}
