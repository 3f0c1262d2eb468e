// Non-overlapping windows over an NHWC map (SAM's window_partition / window_unpartition). The map is
// zero-padded at the bottom/right to a multiple of the window; padded tokens are not masked.
import * as torch from '../../torch/index.js';

type Tensor = torch.Tensor;

/** [B, H, W, C] -> windows [B * nWin, ws, ws, C] and the padded size [Hp, Wp]. */
export function window_partition(x: Tensor, ws: number): { windows: Tensor; padded: [number, number] } {
  return torch.tidy(() => {
    const [B, H, W, C] = x.shape as [number, number, number, number];
    const padH = (ws - (H % ws)) % ws;
    const padW = (ws - (W % ws)) % ws;
    const xp = padH > 0 || padW > 0 ? torch.nn.functional.pad(x, [0, 0, 0, padW, 0, padH]) : x;
    const Hp = H + padH;
    const Wp = W + padW;
    const windows = xp
      .view(B, Hp / ws, ws, Wp / ws, ws, C)
      .permute(0, 1, 3, 2, 4, 5)
      .reshape(-1, ws, ws, C);
    return { windows, padded: [Hp, Wp] as [number, number] };
  });
}

/** Windows [B * nWin, ws, ws, C] back to [B, H, W, C], dropping the padding. */
export function window_unpartition(windows: Tensor, ws: number, padded: readonly [number, number], hw: readonly [number, number]): Tensor {
  return torch.tidy(() => {
    const [Hp, Wp] = padded;
    const [H, W] = hw;
    const B = (windows.size(0) * ws * ws) / (Hp * Wp);
    const x = windows
      .view(B, Hp / ws, Wp / ws, ws, ws, -1)
      .permute(0, 1, 3, 2, 4, 5)
      .reshape(B, Hp, Wp, -1);
    return Hp > H || Wp > W ? x.slice(1, 0, H).slice(2, 0, W).contiguous() : x;
  });
}
