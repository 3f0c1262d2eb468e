// MedSAM's ViT image encoder: real-size parameter count (spec §3.12), window padding, relative-position
// interpolation, and LoRA (count, zero change at init, gradients only into A/B of a frozen encoder).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLoRA, LoRAQKV } from '../../src/models/lora.js';
import { buildMedsamEncoder, MEDSAM_VIT_B } from '../../src/models/medsam/build.js';
import type { ImageEncoderViT, ImageEncoderViTOptions } from '../../src/models/medsam/image_encoder.js';
import { get_rel_pos } from '../../src/models/medsam/rel_pos.js';
import { window_partition, window_unpartition } from '../../src/models/medsam/window.js';
import * as torch from '../../src/torch/index.js';

const count = (ps: torch.nn.Parameter[]): number => ps.reduce((n, p) => n + p.numel(), 0);

const SMALL: ImageEncoderViTOptions = {
  ...MEDSAM_VIT_B,
  img_size: 112,
  embed_dim: 24,
  depth: 3,
  num_heads: 2,
  out_chans: 16,
  window_size: 3, // 7x7 tokens padded to 9x9
  global_attn_indexes: [1],
};

/** A small encoder with every parameter random (rel-pos tables and pos_embed are zero by default). */
function smallEncoder(seed = 3): ImageEncoderViT {
  torch.manual_seed(seed);
  const enc = buildMedsamEncoder(SMALL).eval();
  torch.no_grad(() => {
    for (const p of enc.parameters()) p.normal_(0, 0.2);
  });
  return enc;
}

test('MedSAM ViT-B at 512: 87,278,848 parameters; LoRA rank 4 on 12 blocks adds 147,456', () => {
  const enc = buildMedsamEncoder(MEDSAM_VIT_B);
  try {
    assert.equal(count(enc.parameters()), 87_278_848);
    const sd = enc.state_dict();
    assert.deepEqual(sd.get('pos_embed')?.shape, [1, 32, 32, 768]);
    assert.deepEqual(sd.get('blocks.0.attn.rel_pos_h')?.shape, [27, 64]);
    assert.deepEqual(sd.get('blocks.2.attn.rel_pos_w')?.shape, [63, 64]);
    assert.deepEqual(sd.get('neck.2.weight')?.shape, [256, 256, 3, 3]);
    assert.equal(sd.has('norm_mean'), false, 'the normalisation constants are not persistent');
    const before = [...sd.keys()];
    const lora = applyLoRA(enc, 4);
    assert.equal(lora.length, 12);
    assert.equal(count(lora.flatMap((w) => [w.linear_a_q, w.linear_b_q, w.linear_a_v, w.linear_b_v].map((l) => l.weight))), 147_456);
    assert.equal(count(enc.parameters()), 87_278_848 + 147_456);
    const keys = [...enc.state_dict().keys()].filter((k) => k.startsWith('blocks.0.attn.qkv'));
    assert.deepEqual(keys, [
      'blocks.0.attn.qkv.qkv.weight',
      'blocks.0.attn.qkv.qkv.bias',
      'blocks.0.attn.qkv.linear_a_q.weight',
      'blocks.0.attn.qkv.linear_b_q.weight',
      'blocks.0.attn.qkv.linear_a_v.weight',
      'blocks.0.attn.qkv.linear_b_v.weight',
    ]);
    assert.equal(before.length + 12 * 4, enc.state_dict().size);
  } finally {
    enc.dispose();
  }
});

test('window partition pads with zeros at the bottom/right and unpartition crops back exactly', () => {
  torch.tidy(() => {
    const x = torch.randn([2, 7, 5, 3]);
    const { windows, padded } = window_partition(x, 3);
    assert.deepEqual(padded, [9, 6]);
    assert.deepEqual(windows.shape, [2 * 3 * 2, 3, 3, 3]);
    // window (row 2, col 1) of image 1 holds rows 6..8 and columns 3..5: only rows 6 and columns 3-4 are real
    const w = windows.select(0, 1 * 6 + 2 * 2 + 1);
    assert.ok(torch.allclose(w.select(0, 0).slice(0, 0, 2), x.select(0, 1).select(0, 6).slice(0, 3, 5), 0, 0));
    assert.equal(w.slice(0, 1).abs().max().item(), 0);
    assert.equal(w.select(0, 0).select(0, 2).abs().max().item(), 0, 'column 5 is padding');
    const back = window_unpartition(windows, 3, padded, [7, 5]);
    assert.ok(torch.allclose(back, x, 0, 0));
  });
});

test('get_rel_pos: offset lookup, and linear interpolation (align_corners false) for another length', () => {
  torch.tidy(() => {
    const L = 7; // sized for 4 positions
    const table = torch.randn([L, 2]);
    const r = get_rel_pos(4, 4, table);
    assert.deepEqual(r.shape, [4, 4, 2]);
    const t = table.toArray();
    const ra = r.toArray();
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) for (let c = 0; c < 2; c++) assert.equal(ra[(i * 4 + j) * 2 + c], t[(i - j + 3) * 2 + c]);
    // used for 6 positions: the table is resized to 11 rows by linear interpolation
    const r6 = get_rel_pos(6, 6, table).toArray();
    const resized = (row: number, c: number): number => {
      const src = Math.max(((row + 0.5) * L) / 11 - 0.5, 0);
      const i0 = Math.floor(src);
      const i1 = Math.min(i0 + 1, L - 1);
      const l = src - i0;
      return (1 - l) * (t[i0 * 2 + c] as number) + l * (t[i1 * 2 + c] as number);
    };
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        for (let c = 0; c < 2; c++) assert.ok(Math.abs((r6[(i * 6 + j) * 2 + c] as number) - resized(i - j + 5, c)) < 1e-6);
      }
    }
  });
});

test('encoder: shapes, and a different input size uses interpolated global rel-pos tables', () => {
  const enc = smallEncoder();
  try {
    torch.tidy(() => {
      const y = torch.no_grad(() => enc.forward(torch.rand([2, 3, 112, 112])));
      assert.deepEqual(y.shape, [2, 16, 7, 7]);
      assert.ok(y.isnan().any().item() === 0);
    });
  } finally {
    enc.dispose();
  }
  const noAbs = buildMedsamEncoder({ ...SMALL, use_abs_pos: false });
  try {
    torch.tidy(() => {
      const y = torch.no_grad(() => noAbs.forward(torch.rand([1, 3, 160, 160])));
      assert.deepEqual(y.shape, [1, 16, 10, 10]);
    });
  } finally {
    noAbs.dispose();
  }
});

test('LoRA: zero change at init, then gradients only into A and B of a frozen encoder', () => {
  const enc = smallEncoder();
  try {
    const x = torch.rand([2, 3, 112, 112]);
    const before = torch.no_grad(() => enc.forward(x));
    enc.requires_grad_(false);
    torch.manual_seed(11);
    const lora = applyLoRA(enc, 4, [0, 1]);
    assert.equal(lora.length, 2);
    assert.ok(enc.blocks.at(0).attn.qkv instanceof LoRAQKV);
    assert.ok(!(enc.blocks.at(2).attn.qkv instanceof LoRAQKV));
    assert.throws(() => applyLoRA(enc, 4, [0]), /already wrapped/);
    assert.throws(() => applyLoRA(enc, 4, [3]), /block 3 does not exist/);
    const after = torch.no_grad(() => enc.forward(x));
    assert.equal(
      torch.tidy(() => after.sub(before).abs().max().item()),
      0,
    );
    for (const w of lora) {
      // B zero; A kaiming_uniform(a = sqrt 5): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
      assert.equal(
        torch.tidy(() => w.linear_b_q.weight.abs().max().item()),
        0,
      );
      const a = torch.tidy(() => w.linear_a_q.weight.abs().max().item());
      assert.ok(a > 0 && a <= 1 / Math.sqrt(24));
    }

    const trainable = () => enc.named_parameters().filter(([, p]) => p.requires_grad);
    assert.deepEqual(
      trainable().map(([k]) => k),
      [0, 1].flatMap((i) => ['linear_a_q', 'linear_b_q', 'linear_a_v', 'linear_b_v'].map((n) => `blocks.${i}.attn.qkv.${n}.weight`)),
    );
    // B is zero, so only B gets a non-zero gradient at first
    torch.tidy(() => enc.forward(x).square().sum()).backward();
    for (const [k, p] of enc.named_parameters()) {
      const g = p.grad;
      if (!p.requires_grad) assert.equal(g, undefined, `${k} is frozen`);
      else if (k.includes('linear_b')) assert.ok((g?.abs().max().item() ?? 0) > 0, `${k} gets a gradient`);
      else assert.equal(g?.abs().max().item(), 0, `${k}: zero gradient while B is zero`);
      g?.dispose();
    }
    // with non-zero B, A gets one too and the output changes
    enc.zero_grad();
    torch.no_grad(() => {
      for (const w of lora) w.linear_b_v.weight.normal_(0, 0.1);
    });
    torch.tidy(() => enc.forward(x).square().sum()).backward();
    for (const w of lora) {
      const g = w.linear_a_v.weight.grad;
      assert.ok((g?.abs().max().item() ?? 0) > 0);
      g?.dispose();
    }
    const changed = torch.no_grad(() => enc.forward(x));
    assert.ok(torch.tidy(() => changed.sub(before).abs().max().item()) > 1e-4);
    torch.dispose([x, before, after, changed]);
  } finally {
    enc.dispose();
  }
});
