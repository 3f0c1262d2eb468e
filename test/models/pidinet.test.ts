// PiDiNet: real-size parameter count (spec §3.12), output shape at 512, and each pixel-difference
// conv against a direct plain-TypeScript evaluation of its definition.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PdcConv2d, type PdcType, pdcConfig } from '../../src/models/pidinet/pdc.js';
import { PiDiNet } from '../../src/models/pidinet/pidinet.js';
import * as torch from '../../src/torch/index.js';
import { Rng } from '../helpers/prng.js';

// The 8 neighbours of the centre, clockwise from the top-left corner, as (row, col) offsets.
const CLOCKWISE: [number, number][] = [
  [-1, -1],
  [-1, 0],
  [-1, 1],
  [0, 1],
  [1, 1],
  [1, 0],
  [1, -1],
  [0, -1],
];
// The same neighbours in row-major order (the 3x3 flat indices 0,1,2,3,5,6,7,8).
const ROW_MAJOR: [number, number][] = [
  [-1, -1],
  [-1, 0],
  [-1, 1],
  [0, -1],
  [0, 1],
  [1, -1],
  [1, 0],
  [1, 1],
];

/** y[o,i,j] for a stride-1, zero-padded, ungrouped pixel-difference conv of x [C,H,W] with w [O,C,3,3], from the definitions. */
function direct(type: PdcType, x: number[], C: number, H: number, W: number, w: number[], O: number): number[] {
  const px = (c: number, i: number, j: number) => (i < 0 || j < 0 || i >= H || j >= W ? 0 : (x[(c * H + i) * W + j] as number));
  const wt = (o: number, c: number, di: number, dj: number) => w[((o * C + c) * 3 + (di + 1)) * 3 + (dj + 1)] as number;
  const y: number[] = [];
  for (let o = 0; o < O; o++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        let s = 0;
        for (let c = 0; c < C; c++) {
          if (type === 'cv' || type === 'cd') {
            // cv: sum_k w_k x_k; cd: sum_k w_k (x_k - x_centre)
            for (let di = -1; di <= 1; di++)
              for (let dj = -1; dj <= 1; dj++) {
                const centre = type === 'cd' ? px(c, i, j) : 0;
                s += wt(o, c, di, dj) * (px(c, i + di, j + dj) - centre);
              }
          } else if (type === 'ad') {
            // each ring weight times (its pixel - the next pixel clockwise)
            for (let r = 0; r < 8; r++) {
              const [a, b] = CLOCKWISE[r] as [number, number];
              const [na, nb] = CLOCKWISE[(r + 1) % 8] as [number, number];
              s += wt(o, c, a, b) * (px(c, i + a, j + b) - px(c, i + na, j + nb));
            }
          } else {
            // rd: the weights at flat 3x3 indices 1..8, one per direction (row-major), times
            // (pixel two steps out - pixel one step out)
            for (let m = 0; m < 8; m++) {
              const [a, b] = ROW_MAJOR[m] as [number, number];
              const wm = w[(o * C + c) * 9 + 1 + m] as number;
              s += wm * (px(c, i + 2 * a, j + 2 * b) - px(c, i + a, j + b));
            }
          }
        }
        y.push(s);
      }
  return y;
}

describe('pixel-difference convolutions', () => {
  for (const type of ['cv', 'cd', 'ad', 'rd'] as const) {
    test(`${type} matches its definition`, () => {
      const [C, O, H, W] = [2, 3, 6, 7];
      const rng = new Rng(11);
      const x = rng.uniform(C * H * W);
      const w = rng.uniform(O * C * 9);
      const conv = new PdcConv2d(type, C, O, 3, { padding: 1 });
      torch.no_grad(() => conv.weight.copy_(torch.tensor(w).view(O, C, 3, 3)));
      const got = torch.tidy(() => torch.no_grad(() => conv.forward(torch.tensor(x).view(1, C, H, W))));
      assert.deepEqual(got.shape, [1, O, H, W]);
      const want = direct(type, x, C, H, W, w, O);
      const a = got.toArray();
      for (let k = 0; k < want.length; k++)
        assert.ok(Math.abs((a[k] as number) - (want[k] as number)) < 1e-5, `${type} [${k}]: ${a[k]} vs ${want[k]}`);
      got.dispose();
      conv.dispose();
    });
  }
});

describe('PiDiNet', () => {
  test('carv4 is cd, ad, rd, cv repeated 4 times', () => {
    assert.deepEqual(pdcConfig('carv4'), Array.from({ length: 4 }, () => ['cd', 'ad', 'rd', 'cv']).flat());
  });

  test('real size (inplane 60, carv4, dil 24, sa) has 710,044 parameters and maps 512x512 to [B, 96, 64, 64]', () => {
    const net = new PiDiNet({ inplane: 60, pdcs: pdcConfig('carv4'), dil: 24, sa: true }).eval();
    assert.equal(
      net.parameters().reduce((n, p) => n + p.numel(), 0),
      710_044,
    );
    assert.equal(net.out_chans, 96);
    const keys = [...net.state_dict().keys()];
    assert.ok(
      keys.includes('dilations.3.conv2_4.weight') && keys.includes('attentions.0.conv1.bias') && keys.includes('block4_1.shortcut.bias'),
    );
    assert.ok(!keys.some((k) => k.startsWith('norm_')), 'normalisation constants are non-persistent');
    const y = torch.tidy(() => torch.no_grad(() => net.forward(torch.rand([1, 3, 512, 512]))));
    assert.deepEqual(y.shape, [1, 96, 64, 64]);
    y.dispose();
    net.dispose();
  });
});
