// Pixel-difference convolutions (PiDiNet's ops.py). Each type turns the learned 3x3 weights into an
// effective kernel with a few tensor ops per call, then runs one conv2d:
//   cv: plain conv;
//   cd (central difference): sum_k w_k (x_k - x_c), i.e. conv(x, W) - conv(x, sum W): the centre tap minus sum W;
//   ad (angular difference): W - W with its ring rotated clockwise (flat index [3,0,1,6,4,2,7,8,5]);
//   rd (radial difference): a 5x5 kernel, outer ring = W[1:], inner ring = -W[1:], centre 0, padding 2*dilation.
import * as torch from '../../torch/index.js';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;

export type PdcType = 'cv' | 'cd' | 'ad' | 'rd';

/** PiDiNet's configurations (config.py `nets`): the op of each of the 16 layers (init block, then 15 PDC blocks). */
export function pdcConfig(name: string): PdcType[] {
  const rep = (unit: PdcType[], n: number): PdcType[] => Array.from({ length: n }, () => unit).flat();
  const one = (first: PdcType): PdcType[] => [first, ...rep(['cv'], 15)];
  const table: Record<string, PdcType[]> = {
    baseline: rep(['cv'], 16),
    'c-v15': one('cd'),
    'a-v15': one('ad'),
    'r-v15': one('rd'),
    cvvv4: rep(['cd', 'cv', 'cv', 'cv'], 4),
    avvv4: rep(['ad', 'cv', 'cv', 'cv'], 4),
    rvvv4: rep(['rd', 'cv', 'cv', 'cv'], 4),
    cccv4: rep(['cd', 'cd', 'cd', 'cv'], 4),
    aaav4: rep(['ad', 'ad', 'ad', 'cv'], 4),
    rrrv4: rep(['rd', 'rd', 'rd', 'cv'], 4),
    c16: rep(['cd'], 16),
    a16: rep(['ad'], 16),
    r16: rep(['rd'], 16),
    carv4: rep(['cd', 'ad', 'rd', 'cv'], 4),
  };
  const pdcs = table[name];
  if (pdcs === undefined) throw new Error(`PiDiNet: unknown pdc configuration '${name}' (known: ${Object.keys(table).join(', ')})`);
  return pdcs;
}

// Flat-index maps, built once per device: ad's clockwise ring permutation, and rd's 5x5 layout as an
// index into [0, W[1:], -W[1:]] (0: zero, 1..8: outer ring = W[1..8], 9..16: inner ring = -W[1..8]).
const AD_PERM = [3, 0, 1, 6, 4, 2, 7, 8, 5];
const RD_OUTER = [0, 2, 4, 10, 14, 20, 22, 24];
const RD_INNER = [6, 7, 8, 11, 13, 16, 17, 18];
const RD_MAP = Array.from({ length: 25 }, (_, i) => {
  const o = RD_OUTER.indexOf(i);
  const n = RD_INNER.indexOf(i);
  return o >= 0 ? 1 + o : n >= 0 ? 9 + n : 0;
});
const indexCache = new Map<string, Tensor>();
function index(name: 'ad' | 'rd', values: number[], device: string): Tensor {
  const key = `${name}@${device}`;
  let t = indexCache.get(key);
  if (t === undefined) {
    t = torch.tidy(() => torch.tensor(values, { dtype: 'int64' }).to(device as torch.Device)).keep();
    indexCache.set(key, t);
  }
  return t;
}

/** The effective kernel of a pixel-difference conv and the padding it needs (3x3 weights [O, I, 3, 3]). */
export function pdcKernel(type: PdcType, weight: Tensor, padding: number, dilation: number): { kernel: Tensor; padding: number } {
  if (type === 'cv') return { kernel: weight, padding };
  const [O, I, kh, kw] = weight.shape as [number, number, number, number];
  if (kh !== 3 || kw !== 3) throw new Error(`pdc '${type}': needs a 3x3 kernel, got ${kh}x${kw}`);
  if (type === 'cd') {
    if (padding !== dilation) throw new Error(`pdc 'cd': padding (${padding}) must equal dilation (${dilation})`);
    // conv(x, W) - conv(x, sum W) (1x1) == conv(x, W - sum W placed at the centre tap)
    return { kernel: torch.tidy(() => weight.sub(F.pad(weight.sum([2, 3], true), [1, 1, 1, 1]))), padding };
  }
  if (type === 'ad') {
    if (padding !== dilation) throw new Error(`pdc 'ad': padding (${padding}) must equal dilation (${dilation})`);
    return {
      kernel: torch.tidy(() => {
        const w = weight.view(O, I, 9);
        return w.sub(w.index_select(2, index('ad', AD_PERM, weight.device))).view(O, I, 3, 3);
      }),
      padding,
    };
  }
  // rd: the reference ignores the given padding and uses 2 * dilation
  return {
    kernel: torch.tidy(() => {
      const ring = weight.view(O, I, 9).slice(2, 1); // [O, I, 8]
      const src = torch.cat([torch.zeros([O, I, 1], { dtype: weight.dtype, device: weight.device as torch.Device }), ring, ring.neg()], 2);
      return src.index_select(2, index('rd', RD_MAP, weight.device)).view(O, I, 5, 5);
    }),
    padding: 2 * dilation,
  };
}

export interface PdcConv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/** PiDiNet's `Conv2d(pdc, ...)`: learned 3x3 weights (key `weight`, optional `bias`) applied as a pixel-difference conv. */
export class PdcConv2d extends nn.Module {
  weight: torch.nn.Parameter;
  bias: torch.nn.Parameter | undefined;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;

  constructor(
    readonly pdc: PdcType,
    in_channels: number,
    out_channels: number,
    kernel_size = 3,
    o: PdcConv2dOptions = {},
  ) {
    super();
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    this.groups = o.groups ?? 1;
    if (in_channels % this.groups || out_channels % this.groups) {
      throw new Error(`PdcConv2d: channels ${in_channels}->${out_channels} are not divisible by groups ${this.groups}`);
    }
    const fan_in = (in_channels / this.groups) * kernel_size * kernel_size;
    [this.weight, this.bias] = torch.tidy(() => {
      const w = new nn.Parameter(nn.init.uninitialized([out_channels, in_channels / this.groups, kernel_size, kernel_size]));
      const b = o.bias ? new nn.Parameter(nn.init.uninitialized([out_channels])) : undefined;
      nn.init.reset_linear_like(w, b, fan_in);
      return [w, b];
    });
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const { kernel, padding } = pdcKernel(this.pdc, this.weight, this.padding, this.dilation);
      return F.conv2d(x, kernel, this.bias, { stride: this.stride, padding, dilation: this.dilation, groups: this.groups });
    });
  }
}
