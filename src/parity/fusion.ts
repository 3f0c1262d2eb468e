// fusion: FusePre -> FusePro (share_token) -> FuseFin (sum), fed with random encoder maps; every
// stage's output and FusePro's head-averaged attention are compared.
import { Fusion } from '../models/fusion/fusion.js';
import { traceModules } from '../models/trace.js';
import * as torch from '../torch/index.js';
import type { Fixture, KindResult } from './check.js';

/**
 * The fixture names of the fusion stages' intermediates -> their keys (models/trace.ts), for the fusion at
 * `prefix` fusing the models `names` over `depth` FusePro blocks.
 */
export function fusionProbes(prefix: string, names: readonly string[], depth: number): Record<string, string> {
  const out: Record<string, string> = { 'fuse_fin.sum': `${prefix}fuse_fin.fin_fuser.fin_fuser2:in` };
  for (const [m, name] of names.entries()) {
    out[`fuse_pre.${name}`] = `${prefix}fuse_pre.preblocks.${m}`;
    for (let d = 0; d < depth; d++) {
      out[`fuse_pro.depth${d}.${name}`] = `${prefix}fuse_pro.para_fuser.blocks.${d}.${m}.x`;
      out[`fuse_pro.depth${d}.${name}.attn_headmean`] = `${prefix}fuse_pro.para_fuser.blocks.${d}.${m}.attn`;
    }
    out[`fuse_fin.finblock.${name}`] = `${prefix}fuse_fin.fin_fuser.fin_fuser1.${m}`;
  }
  return out;
}

export function run(f: Fixture): KindResult {
  const c = f.config;
  const names = c.model_order as string[];
  const meta = c.model_meta as Record<string, { c: number }>;
  const size = Number(c.fuse_fin_feat_size);
  const net = new Fusion({
    in_chans: names.map((n) => Number(meta[n]?.c)),
    embed_dim: Number(c.embed_dim),
    depth: Number(c.depth),
    num_heads: Number(c.num_heads),
    num_tokens: Number(c.share_token_num),
    out_chans: Number(c.out_chans),
    out_size: [size, size],
    mlp_ratio: Number(c.mlp_ratio),
    qkv_bias: Boolean(c.qkv_bias),
    layernorm_eps: Number(c.layernorm_eps),
    layernorm2d_eps: Number(c.layernorm2d_eps),
    fin_mlp_hidden: Number(c.finblock_mlp_hidden),
  }).eval();
  net.load_state_dict(f.weights);
  const feats = names.map((n) => f.inputs.get(`feat.${n}`)!);
  const forward = () => torch.no_grad(() => net.forward(feats, Boolean(c.require_atten)));
  const { result, traced: outputs } = traceModules(net, fusionProbes('', names, Number(c.depth)), forward);
  outputs.set('X_f', result.x);
  const keys = [...net.state_dict().keys()];
  const expected = [...f.weights.keys()];
  const params = net.parameters().reduce((n, p) => n + p.numel(), 0);
  net.dispose();
  torch.dispose(result.attn);
  return {
    outputs,
    checks: [
      {
        name: 'state_dict keys and order',
        ok: keys.length === expected.length && keys.every((k, i) => k === expected[i]),
        detail: `${keys.length} keys`,
      },
      { name: 'parameter count', ok: params === Number(c.total_params), detail: `${params} (reference ${c.total_params})` },
    ],
  };
}
