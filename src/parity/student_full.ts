// student_full: the real-size student (TinyViT-5M + PromptEncoderIter + MaskDecoderIterSimple) at 512,
// strict-loaded, eval mode, on float32(image_u8)/255; the encoder stage summaries are derived here from
// the traced stage outputs.

import { join } from 'node:path';
import { Student } from '../models/student.js';
import { traceModules } from '../models/trace.js';
import * as torch from '../torch/index.js';
import type { ExtraCheck, Fixture, KindResult } from './check.js';

type Tensor = torch.Tensor;

interface StudentFullConfig {
  img_size: number;
  num_classes: number;
  train_iter: number;
  test_iter: number;
  total_params: number;
  tinyvit: {
    embed_dims: number[];
    depths: number[];
    num_heads: number[];
    window_sizes: number[];
    mlp_ratio: number;
    mbconv_expand_ratio: number;
    local_conv_size: number;
  };
  decoder: {
    transformer_dim: number;
    transformer_depth: number;
    transformer_mlp_dim: number;
    transformer_num_heads: number;
    attention_downsample_rate: number;
    mask_in_chans: number;
  };
  non_persistent_buffers: Record<string, number[]>;
}

export function buildStudent(c: StudentFullConfig): Student {
  const t = c.tinyvit;
  return new Student({
    img_size: c.img_size,
    num_classes: c.num_classes,
    train_iter: c.train_iter,
    test_iter: c.test_iter,
    encoder: {
      embed_dims: t.embed_dims,
      depths: t.depths,
      num_heads: t.num_heads,
      window_sizes: t.window_sizes,
      mlp_ratio: t.mlp_ratio,
      mbconv_expand_ratio: t.mbconv_expand_ratio,
      local_conv_size: t.local_conv_size,
    },
    decoder: c.decoder,
    pixel_mean: c.non_persistent_buffers.pixel_mean,
    pixel_std: c.non_persistent_buffers.pixel_std,
  });
}

export function run(f: Fixture): KindResult {
  const c = f.config as unknown as StudentFullConfig;
  const net = buildStudent(c).eval().to(f.device);
  net.load_state_dict(f.weights);
  const x = torch.tidy(() => f.inputs.get('image_u8')!.float().div(255));
  const names: Record<string, string> = {
    'tinyvit.patch_embed': 'image_encoder.patch_embed',
    'decoder.iter0.transformer.hs': 'mask_decoder.transformer.0',
  };
  for (let i = 0; i < c.tinyvit.depths.length; i++) names[`tinyvit.layer${i}`] = `image_encoder.layers.${i}`;
  const { result, traced } = traceModules(net, names, () => torch.no_grad(() => net.forward(x, 'test')));

  const outputs = new Map<string, Tensor>();
  torch.tidy(() => {
    const pe = traced.get('tinyvit.patch_embed')!; // [B, C, H, W]
    outputs.set('tinyvit.patch_embed.chmean', pe.mean([2, 3]));
    outputs.set('tinyvit.patch_embed.row0_col0_8', pe.select(2, 0).slice(2, 0, 8).contiguous());
    for (let i = 0; i < c.tinyvit.depths.length; i++) {
      const tokens = traced.get(`tinyvit.layer${i}`)!; // [B, N, C]
      outputs.set(`tinyvit.layer${i}.token_mean`, tokens.mean(1));
      outputs.set(`tinyvit.layer${i}.first16`, tokens.slice(1, 0, 16).contiguous());
    }
    return [...outputs.values()];
  });
  outputs.set('decoder.iter0.transformer.hs', traced.get('decoder.iter0.transformer.hs')!);
  outputs.set('image_embedding', result.image_embedding);
  for (const [i, t] of result.low_res_logits.entries()) outputs.set(`low_res_logits.${i}`, t);
  for (const [i, t] of result.high_res_logits.entries()) outputs.set(`high_res_logits.${i}`, t);

  const keys = [...net.state_dict().keys()];
  const expected = [...f.weights.keys()];
  const params = net.parameters().reduce((n, p) => n + p.numel(), 0);
  const buffers = new Map(net.named_buffers());
  const bufferChecks: ExtraCheck[] = Object.entries(c.non_persistent_buffers).map(([name, want]) => {
    const mine = buffers.get(name);
    const got = mine?.toArray() ?? [];
    const ok =
      mine !== undefined &&
      !keys.includes(name) &&
      got.length === want.length &&
      got.every((v, i) => Math.abs(v - want[i]!) <= 1e-6 * Math.abs(want[i]!));
    return { name: `non-persistent buffer ${name}`, ok, detail: `[${got.map((v) => v.toPrecision(8)).join(', ')}]` };
  });
  const pth = torch.io.load_pth(join(f.dir, 'weights.pth'));
  const pthKeys = pth instanceof Map ? [...pth.keys()] : [];
  const pthSame =
    pth instanceof Map &&
    pthKeys.length === expected.length &&
    pthKeys.every((k, i) => k === expected[i]) &&
    [...f.weights].every(([k, v]) => {
      const t = pth.get(k) as Tensor;
      return torch.tidy(() => t.dtype === v.dtype && t.eq(v).all().item() === 1);
    });
  torch.dispose(pth instanceof Map ? [...pth.values()] : []);
  net.dispose();
  for (const [k, t] of traced) if (!outputs.has(k) || outputs.get(k) !== t) t.dispose();
  x.dispose();
  return {
    outputs,
    checks: [
      {
        name: 'state_dict keys and order',
        ok: keys.length === expected.length && keys.every((k, i) => k === expected[i]),
        detail: `${keys.length} keys`,
      },
      { name: 'weights.pth equals weights.safetensors', ok: pthSame, detail: `${pthKeys.length} keys` },
      { name: 'parameter count', ok: params === c.total_params, detail: `${params}` },
      ...bufferChecks,
    ],
  };
}
