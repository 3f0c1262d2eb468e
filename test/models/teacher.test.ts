// The teacher at real size (spec §3.12 counts, trainable set of the LoRA wrapper) and with a subset of
// encoders in another order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pdcConfig } from '../../src/models/pidinet/pdc.js';
import { LoRAMultiModelSeg, MMFD_TEACHER_ARCH, MultiModelSeg, type MultiModelSegOptions } from '../../src/models/teacher.js';
import * as torch from '../../src/torch/index.js';

const count = (ps: torch.nn.Parameter[]): number => ps.reduce((n, p) => n + p.numel(), 0);

test('teacher: real size has 228,714,428 parameters, 53,110,560 trainable under LoRA r=4 on MedSAM', () => {
  const seg = new MultiModelSeg({ ...MMFD_TEACHER_ARCH, num_classes: 4 });
  assert.equal(count(seg.image_encoder.medsam!.parameters()), 87_278_848);
  assert.equal(count(seg.image_encoder.pidinet!.parameters()), 710_044);
  assert.equal(count(seg.image_encoder.plip!.parameters()), 87_614_976);
  assert.equal(count(seg.prompt_encoder.parameters()), 5_760);
  assert.equal(count(seg.mask_decoder.parameters()), 3_924_448);
  assert.equal(count(seg.parameters()), 228_714_428 - 147_456);
  const net = new LoRAMultiModelSeg(seg, { rank: 4 });
  assert.equal(count(net.parameters()), 228_714_428);
  const trainable = net.trainable_parameters();
  assert.equal(count(trainable.map(([, p]) => p)), 53_110_560);
  const names = trainable.map(([n]) => n);
  assert.ok(names.includes('sam.image_encoder.medsam.blocks.11.attn.qkv.linear_b_v.weight'));
  assert.ok(names.includes('sam.image_encoder.fuse_pro.para_fuser.mm_tokens.0'));
  assert.ok(!names.some((n) => n.includes('attn.qkv.qkv') || n.includes('.plip.') || n.includes('.pidinet.')));
  assert.ok(net.state_dict().has('sam.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix'));
  net.dispose();
});

function small(model_list: MultiModelSegOptions['model_list']): MultiModelSegOptions {
  return {
    model_list,
    img_size: 64,
    medsam: {
      img_size: 64,
      patch_size: 16,
      in_chans: 3,
      embed_dim: 16,
      depth: 2,
      num_heads: 2,
      mlp_ratio: 2,
      out_chans: 8,
      qkv_bias: true,
      use_abs_pos: true,
      use_rel_pos: true,
      window_size: 2,
      global_attn_indexes: [1],
      layernorm_eps: 1e-6,
      layernorm2d_eps: 1e-6,
      norm_pre_scale: 255,
      norm_mean: [123.675, 116.28, 103.53],
      norm_std: [58.395, 57.12, 57.375],
    },
    pidinet: { inplane: 4, pdcs: pdcConfig('carv4'), dil: 4, sa: true },
    plip: {
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      patch_size: 32,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
    },
    fusion: { embed_dim: 8, depth: 1, num_heads: 2, num_tokens: 3, out_chans: 16 },
    num_classes: 3,
    decoder: { transformer_dim: 16, transformer_depth: 1, transformer_mlp_dim: 32, transformer_num_heads: 2, mask_in_chans: 8 },
  };
}

test('teacher: any subset and order of encoders; init_masks gets no gradient', () => {
  torch.manual_seed(0);
  const net = new LoRAMultiModelSeg(new MultiModelSeg(small(['plip', 'medsam'])), { rank: 2 });
  const keys = [...net.state_dict().keys()];
  assert.ok(keys[0]?.startsWith('sam.image_encoder.plip.'), keys[0]);
  assert.ok(!keys.some((k) => k.includes('.pidinet.')));
  assert.ok(keys.includes('sam.image_encoder.fuse_pre.preblocks.1.norm.weight'));
  const image = torch.rand([2, 3, 64, 64]);
  const out = net.forward(image, 'train');
  assert.deepEqual(out.feats.shape, [2, 16, 4, 4]);
  assert.deepEqual(out.low_res_logits_list[0]!.shape, [2, 3, 16, 16]);
  assert.deepEqual(out.masks.shape, [2, 3, 64, 64]);
  out.masks.square().mean().backward();
  const params = new Map(net.named_parameters());
  assert.equal(params.get('sam.prompt_encoder.init_masks.weight')!.grad, undefined);
  assert.ok(params.get('sam.image_encoder.medsam.blocks.0.attn.qkv.linear_a_q.weight')!.grad !== undefined);
  assert.equal(params.get('sam.image_encoder.plip.post_layernorm.weight')!.grad, undefined);
  torch.dispose([image, out]);
  net.dispose();
});

test('teacher: MedSAM patches of 8 give a twice finer grid, and the logits follow it (no target size needed)', () => {
  torch.manual_seed(0);
  const o = small(['medsam', 'pidinet']);
  const net = new MultiModelSeg({ ...o, medsam: { ...o.medsam!, patch_size: 8 } });
  const out = torch.no_grad(() => net.forward(torch.rand([1, 3, 64, 64]), 'test'));
  assert.deepEqual(out.feats.shape, [1, 16, 8, 8]);
  assert.deepEqual(out.low_res_logits_list[0]!.shape, [1, 3, 32, 32]);
  assert.deepEqual(out.masks.shape, [1, 3, 64, 64]);
  torch.dispose(out);
  net.dispose();
});

test('teacher: a model_list entry without options, or LoRA on a missing MedSAM, is an error', () => {
  const o = small(['pidinet']);
  assert.throws(() => new MultiModelSeg({ ...o, model_list: ['medsam'], medsam: undefined }), /no medsam options/);
  assert.throws(() => new LoRAMultiModelSeg(new MultiModelSeg(o), { rank: 2 }), /no medsam/);
});
