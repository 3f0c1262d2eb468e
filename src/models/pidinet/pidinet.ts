// PiDiNet as MMFD uses it (edge classifier and map-reduce heads removed): ImageNet normalisation,
// a pdc init block, four stages of PDC blocks, CDCM + CSAM heads on every stage output, the four
// head maps resized to the last stage's size and concatenated.
import * as torch from '../../torch/index.js';
import { PDCBlock } from './block.js';
import { CDCM } from './cdcm.js';
import { CSAM } from './csam.js';
import { PdcConv2d, type PdcType } from './pdc.js';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;

export interface PiDiNetOptions {
  /** Width of stage 1 (stages: C, 2C, 4C, 4C). */
  inplane: number;
  /** The op of each of the 16 layers (init block, then 15 blocks), e.g. pdcConfig('carv4'). */
  pdcs: readonly PdcType[];
  /** CDCM output width; undefined: no CDCM heads. */
  dil?: number;
  /** CSAM heads. */
  sa?: boolean;
  /** Input normalisation (x * pre_scale - mean) / (std + 1e-6); ImageNet's by default. */
  norm_mean?: readonly number[];
  norm_std?: readonly number[];
  norm_pre_scale?: number;
}

export class PiDiNet extends nn.Module {
  init_block: PdcConv2d;
  block1_1: PDCBlock;
  block1_2: PDCBlock;
  block1_3: PDCBlock;
  block2_1: PDCBlock;
  block2_2: PDCBlock;
  block2_3: PDCBlock;
  block2_4: PDCBlock;
  block3_1: PDCBlock;
  block3_2: PDCBlock;
  block3_3: PDCBlock;
  block3_4: PDCBlock;
  block4_1: PDCBlock;
  block4_2: PDCBlock;
  block4_3: PDCBlock;
  block4_4: PDCBlock;
  attentions: torch.nn.ModuleList<CSAM> | undefined;
  dilations: torch.nn.ModuleList<CDCM> | undefined;
  readonly fuseplanes: number[];
  readonly out_chans: number;
  readonly norm_mean: Tensor;
  readonly norm_std: Tensor;
  readonly norm_pre_scale: Tensor;

  constructor(o: PiDiNetOptions) {
    super();
    const { inplane: C, pdcs, dil, sa = false } = o;
    if (pdcs.length !== 16) throw new Error(`PiDiNet: needs 16 pdc types, got ${pdcs.length}`);
    const p = (i: number) => pdcs[i] as PdcType;
    this.init_block = new PdcConv2d(p(0), 3, C, 3, { padding: 1 });
    this.block1_1 = new PDCBlock(p(1), C, C);
    this.block1_2 = new PDCBlock(p(2), C, C);
    this.block1_3 = new PDCBlock(p(3), C, C);
    this.block2_1 = new PDCBlock(p(4), C, 2 * C, 2);
    this.block2_2 = new PDCBlock(p(5), 2 * C, 2 * C);
    this.block2_3 = new PDCBlock(p(6), 2 * C, 2 * C);
    this.block2_4 = new PDCBlock(p(7), 2 * C, 2 * C);
    this.block3_1 = new PDCBlock(p(8), 2 * C, 4 * C, 2);
    this.block3_2 = new PDCBlock(p(9), 4 * C, 4 * C);
    this.block3_3 = new PDCBlock(p(10), 4 * C, 4 * C);
    this.block3_4 = new PDCBlock(p(11), 4 * C, 4 * C);
    this.block4_1 = new PDCBlock(p(12), 4 * C, 4 * C, 2);
    this.block4_2 = new PDCBlock(p(13), 4 * C, 4 * C);
    this.block4_3 = new PDCBlock(p(14), 4 * C, 4 * C);
    this.block4_4 = new PDCBlock(p(15), 4 * C, 4 * C);
    this.fuseplanes = [C, 2 * C, 4 * C, 4 * C];
    const heads = this.fuseplanes.map((c) => dil ?? c);
    if (sa) this.attentions = new nn.ModuleList(heads.map((c) => new CSAM(c)));
    if (dil !== undefined) this.dilations = new nn.ModuleList(this.fuseplanes.map((c) => new CDCM(c, dil)));
    this.out_chans = heads.reduce((a, b) => a + b, 0);
    const mean = o.norm_mean ?? [0.485, 0.456, 0.406];
    const std = o.norm_std ?? [0.229, 0.224, 0.225];
    this.norm_mean = this.register_buffer('norm_mean', torch.tensor([...mean]).view(1, -1, 1, 1), false);
    this.norm_std = this.register_buffer('norm_std', torch.tensor([...std]).view(1, -1, 1, 1), false);
    this.norm_pre_scale = this.register_buffer('norm_pre_scale', torch.tensor([o.norm_pre_scale ?? 1]), false);
  }

  /** x: RGB in [0, 1], [B, 3, H, W] -> [B, out_chans, H/8, W/8]. */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      // (x * s - mean) / (std + 1e-6) as one fused x * a + b
      const inv = this.norm_std.add(1e-6).reciprocal();
      const xn = torch.op('addcmul', this.norm_mean.mul(inv).neg(), x, inv.mul(this.norm_pre_scale));
      const x0 = this.init_block.forward(xn);
      const stages = [
        [this.block1_1, this.block1_2, this.block1_3],
        [this.block2_1, this.block2_2, this.block2_3, this.block2_4],
        [this.block3_1, this.block3_2, this.block3_3, this.block3_4],
        [this.block4_1, this.block4_2, this.block4_3, this.block4_4],
      ];
      let h = x0;
      const outs = stages.map((blocks) => {
        for (const b of blocks) h = b.forward(h);
        return h;
      }); // [B, C, H, W], [B, 2C, H/2, W/2], [B, 4C, H/4, W/4], [B, 4C, H/8, W/8]
      const maps = outs.map((xi, i) => {
        let y = xi;
        if (this.dilations) y = this.dilations.at(i).forward(y);
        if (this.attentions) y = this.attentions.at(i).forward(y);
        return y;
      });
      const [H, W] = (outs[3] as Tensor).shape.slice(2) as [number, number];
      const resized = maps.map((m) =>
        m.size(2) === H && m.size(3) === W ? m : F.interpolate(m, { size: [H, W], mode: 'bilinear', align_corners: false }),
      );
      return torch.cat(resized, 1); // [B, out_chans, H/8, W/8]
    });
  }
}
