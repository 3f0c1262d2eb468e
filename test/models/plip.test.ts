// PLIP vision tower: real-size (ViT-B/32 at 512) parameter count (spec §3.12), HF key names and the output shape.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CLIPVisionConfig } from '../../src/models/plip/config.js';
import { CLIPVisionTransformer } from '../../src/models/plip/vision_transformer.js';
import * as torch from '../../src/torch/index.js';

const VIT_B32: CLIPVisionConfig = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  patch_size: 32,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  image_size: 224,
};

describe('CLIPVisionTransformer (PLIP)', () => {
  test('ViT-B/32 has 87,456,000 parameters at 224 and 87,614,976 at 512', () => {
    for (const [size, count] of [
      [224, 87_456_000],
      [512, 87_614_976],
    ] as const) {
      const net = new CLIPVisionTransformer(VIT_B32, size);
      assert.equal(
        net.parameters().reduce((n, p) => n + p.numel(), 0),
        count,
      );
      net.dispose();
    }
  });

  test('keys are Hugging Face CLIP vision_model keys; position_ids is not persistent; 512 input gives [B, 768, 16, 16]', () => {
    const net = new CLIPVisionTransformer(VIT_B32, 512).eval();
    const keys = [...net.state_dict().keys()];
    assert.deepEqual(keys.slice(0, 5), [
      'embeddings.class_embedding',
      'embeddings.patch_embedding.weight',
      'embeddings.position_embedding.weight',
      'pre_layrnorm.weight',
      'pre_layrnorm.bias',
    ]);
    assert.ok(keys.includes('encoder.layers.11.self_attn.q_proj.bias') && keys.includes('encoder.layers.0.mlp.fc2.weight'));
    assert.deepEqual(keys.slice(-2), ['post_layernorm.weight', 'post_layernorm.bias']);
    assert.equal(keys.length, 5 + 12 * 16 + 2);
    assert.ok(!keys.includes('embeddings.position_ids'));
    assert.deepEqual(net.state_dict().get('embeddings.position_embedding.weight')?.shape, [257, 768]);
    const y = torch.tidy(() => torch.no_grad(() => net.forward(torch.rand([2, 3, 512, 512]))));
    assert.deepEqual(y.shape, [2, 768, 16, 16]);
    y.dispose();
    net.dispose();
  });

  test('features are the post-LN patch tokens reshaped row-major', () => {
    const cfg: CLIPVisionConfig = {
      ...VIT_B32,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      patch_size: 4,
    };
    const net = new CLIPVisionTransformer(cfg, 12).eval();
    torch.tidy(() =>
      torch.no_grad(() => {
        const x = torch.rand([1, 3, 12, 12]);
        const y = net.forward(x); // [1, 16, 3, 3]
        const h = net.encoder.forward(net.pre_layrnorm.forward(net.embeddings.forward(x.mul(255))));
        const tok = net.post_layernorm.forward(h.select(1, 1 + 1 * 3 + 2)); // token of grid cell (1, 2)
        assert.ok(torch.allclose(y.select(2, 1).select(2, 2), tok, 1e-5, 1e-5));
      }),
    );
    net.dispose();
  });
});
