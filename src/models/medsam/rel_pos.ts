// Decomposed relative positions (SAM's get_rel_pos / add_decomposed_rel_pos, after MViTv2): the logit of
// query (i, j) and key (k, l) gets q·R_h[i - k] + q·R_w[j - l] from two learned tables.
import * as torch from '../../torch/index.js';

type Tensor = torch.Tensor;

// The (q, k) -> table-row index matrices are tiny constants: made once per size and device.
const indexCache = new Map<string, Tensor>();

function relative_index(q_size: number, k_size: number, device: string): Tensor {
  const key = `${q_size},${k_size},${device}`;
  let idx = indexCache.get(key);
  if (idx === undefined) {
    idx = torch
      .tidy(() => {
        // float32 arithmetic then truncation, as the reference's coordinates (arange * python float, .long()).
        const qc = torch
          .arange(q_size)
          .unsqueeze(1)
          .mul(Math.max(k_size / q_size, 1));
        const kc = torch
          .arange(k_size)
          .unsqueeze(0)
          .mul(Math.max(q_size / k_size, 1));
        const rel = qc.sub(kc).add((k_size - 1) * Math.max(q_size / k_size, 1));
        const flat = rel.long().flatten();
        return device === 'cpu' ? flat : flat.to(device as torch.Device);
      })
      .keep();
    indexCache.set(key, idx);
  }
  return idx;
}

/** The table rows for every (query, key) offset: [q_size, k_size, C]. A table whose length is not
 *  2·max(q, k) − 1 is first resized by linear interpolation (align_corners false). */
export function get_rel_pos(q_size: number, k_size: number, rel_pos: Tensor): Tensor {
  return torch.tidy(() => {
    const maxDist = 2 * Math.max(q_size, k_size) - 1;
    const L = rel_pos.size(0);
    const table =
      L === maxDist
        ? rel_pos
        : torch
            .op('upsample_linear1d.vec', rel_pos.reshape(1, L, -1).permute(0, 2, 1), [maxDist], false, undefined)
            .reshape(-1, maxDist)
            .permute(1, 0);
    return table.index_select(0, relative_index(q_size, k_size, rel_pos.device)).reshape(q_size, k_size, -1);
  });
}

/**
 * Adds the decomposed relative-position terms to attention logits, in place.
 * attn [B, qh·qw, kh·kw] (B counts heads too), q [B, qh·qw, C] (unscaled).
 */
export function add_decomposed_rel_pos(
  attn: Tensor,
  q: Tensor,
  rel_pos_h: Tensor,
  rel_pos_w: Tensor,
  q_size: readonly [number, number],
  k_size: readonly [number, number],
): Tensor {
  torch.tidy(() => {
    const [qh, qw] = q_size;
    const [kh, kw] = k_size;
    const Rh = get_rel_pos(qh, kh, rel_pos_h); // [qh, kh, C]
    const Rw = get_rel_pos(qw, kw, rel_pos_w); // [qw, kw, C]
    const [B, , dim] = q.shape as [number, number, number];
    const r_q = q.reshape(B, qh, qw, dim);
    const rel_h = torch.einsum('bhwc,hkc->bhwk', [r_q, Rh]);
    const rel_w = torch.einsum('bhwc,wkc->bhwk', [r_q, Rw]);
    attn.view(B, qh, qw, kh, kw).add_(rel_h.unsqueeze(-1)).add_(rel_w.unsqueeze(-2));
  });
  return attn;
}
