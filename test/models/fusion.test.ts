// The fusion stages at real size (parameter counts of spec §3.12) and the FusePro softmax variants.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrossAttentionTokenKV } from '../../src/models/fusion/cross_block.js';
import { FuseFin } from '../../src/models/fusion/fuse_fin.js';
import { FusePre } from '../../src/models/fusion/fuse_pre.js';
import { FusePro } from '../../src/models/fusion/fuse_pro.js';
import { Fusion } from '../../src/models/fusion/fusion.js';
import * as torch from '../../src/torch/index.js';

const count = (m: torch.nn.Module): number => m.parameters().reduce((n, p) => n + p.numel(), 0);

test('fusion: real-size parameter counts (FusePre 3,056,256; FusePro 43,313,664; FuseFin 2,662,976)', () => {
  const pre = new FusePre({ in_chans: [256, 96, 768], embed_dim: 768 });
  assert.equal(count(pre), 3_056_256);
  pre.dispose();
  const pro = new FusePro({ num_models: 3, embed_dim: 768, depth: 2, num_heads: 12, num_tokens: 512 });
  assert.equal(count(pro), 43_313_664);
  assert.deepEqual(pro.state_dict().get('para_fuser.mm_tokens.1')?.shape, [1, 512, 768]);
  pro.dispose();
  const fin = new FuseFin({ num_models: 3, embed_dim: 768, out_chans: 256, out_size: [32, 32] });
  assert.equal(count(fin), 2_662_976);
  fin.dispose();
});

function smallFusion(softmax_axis: 'spatial' | 'tokens', in_chans = [8, 12, 16]): Fusion {
  torch.manual_seed(7);
  return new Fusion({
    in_chans,
    embed_dim: 16,
    depth: 2,
    num_heads: 2,
    num_tokens: 5,
    out_chans: 12,
    out_size: [4, 4],
    softmax_axis,
  }).eval();
}

test("fusion: the 'tokens' variant differs from 'spatial'; its attention sums to 1 over the tokens, the reference's over space", () => {
  torch.tidy(() => {
    const gen = new torch.Generator(3);
    const feats = [
      torch.randn([2, 8, 4, 4], { generator: gen }),
      torch.randn([2, 12, 8, 8], { generator: gen }),
      torch.randn([2, 16, 2, 2], { generator: gen }),
    ];
    const spatial = smallFusion('spatial');
    const tokens = smallFusion('tokens');
    const a = torch.no_grad(() => spatial.forward(feats, true));
    const b = torch.no_grad(() => tokens.forward(feats, true));
    assert.deepEqual(a.x.shape, [2, 12, 4, 4]);
    assert.deepEqual(b.x.shape, a.x.shape);
    assert.ok(a.x.sub(b.x).abs().max().item() > 1e-3, 'the two softmax axes give the same output');
    for (const depth of b.attn!) {
      for (const m of depth) {
        const [B, h, w, T] = m.shape as [number, number, number, number];
        assert.equal(T, 5);
        assert.ok(m.sum(-1).sub(1).abs().max().item() < 1e-5, 'tokens: rows do not sum to 1 over tokens');
        assert.ok(
          m
            .view(B, h * w, T)
            .sum(1)
            .sub(1)
            .abs()
            .max()
            .item() > 1e-2,
          'tokens: sums to 1 over space as well?',
        );
      }
    }
    for (const depth of a.attn!) {
      for (const m of depth) {
        const [B, h, w, T] = m.shape as [number, number, number, number];
        assert.ok(
          m
            .view(B, h * w, T)
            .sum(1)
            .sub(1)
            .abs()
            .max()
            .item() < 1e-5,
          'spatial: columns do not sum to 1 over space',
        );
      }
    }
    spatial.dispose();
    tokens.dispose();
  });
});

test("fusion: the 'tokens' variant is standard cross-attention", () => {
  torch.tidy(() => {
    torch.manual_seed(11);
    const attn = new CrossAttentionTokenKV({ dim: 12, num_heads: 3, softmax_axis: 'tokens' });
    const x = torch.randn([2, 3, 5, 12]);
    const t = torch.randn([1, 7, 12]);
    const y = torch.no_grad(() => attn.forward(x, t).x);
    const ref = torch.no_grad(() => {
      // per batch b, head n, position p, token j: softmax_j(q[b,p,n,:] . k[j,n,:] / 2) v[j,n,:]
      const q = attn.q_lin.forward(x).view(2, 15, 3, 4);
      const kv = attn.kv_lin.forward(t).view(7, 2, 3, 4);
      const logits = torch.einsum('bpnd,jnd->bnpj', [q, kv.select(1, 0)]).div(2);
      const o = torch.einsum('bnpj,jnd->bpnd', [logits.softmax(-1), kv.select(1, 1)]);
      return attn.proj.forward(o.reshape(2, 3, 5, 12));
    });
    assert.ok(y.sub(ref).abs().max().item() < 1e-5);
    attn.dispose();
  });
});

test("fusion: with the reference's spatial softmax a bias on q_lin has no effect (zero gradient)", () => {
  torch.manual_seed(5);
  const attn = new CrossAttentionTokenKV({ dim: 8, num_heads: 2 });
  torch.tidy(() => {
    const x = torch.randn([2, 4, 4, 8]);
    const t = torch.randn([1, 6, 8]);
    attn.forward(x, t).x.square().sum().backward();
  });
  const g = attn.q_lin.bias!.grad!;
  const gw = attn.q_lin.weight.grad!;
  assert.ok(g.abs().max().item() < 1e-5 * Math.max(1, gw.abs().max().item()));
  torch.dispose([g, gw]);
  attn.dispose();
});

test('fusion: any subset and order of models; the forward frees its intermediates', () => {
  const net = smallFusion('spatial', [16, 8]);
  const feats = [torch.randn([1, 16, 2, 2]), torch.randn([1, 8, 4, 4])];
  const keys = [...net.state_dict().keys()];
  assert.ok(keys.includes('fuse_pre.preblocks.1.norm.weight'));
  assert.ok(!keys.includes('fuse_pre.preblocks.2.norm.weight'));
  assert.ok(keys.includes('fuse_fin.fin_fuser.fin_fuser2.3.bias'));
  const before = torch.memory_stats().tensors;
  const out = torch.no_grad(() => net.forward(feats));
  assert.deepEqual(out.x.shape, [1, 12, 4, 4]);
  out.x.dispose();
  assert.equal(torch.memory_stats().tensors, before);
  torch.dispose(feats);
  net.dispose();
});
