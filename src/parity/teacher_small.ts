// teacher_small: the whole teacher inside the LoRA wrapper (small encoders, narrow decoder): forward
// intermediates, the iter-2 test pass, the training loss (and the loss with class 3 removed from the
// target), gradients of loss.total, and the trainable parameter names of parameters.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { medsamOptionsFromConfig } from '../models/medsam/build.js';
import type { PdcType } from '../models/pidinet/pdc.js';
import type { CLIPVisionConfig } from '../models/plip/config.js';
import { type EncoderName, LoRAMultiModelSeg, MultiModelSeg, type MultiModelSegOptions } from '../models/teacher.js';
import { traceModules } from '../models/trace.js';
import * as torch from '../torch/index.js';
import { segmentationLoss } from '../train/losses.js';
import type { ExtraCheck, Fixture, KindResult } from './check.js';
import { fusionProbes } from './fusion.js';

type Cfg = Record<string, unknown>;

const num = (v: unknown): number => Number(v);

/** The teacher's options from the fixture's config.json. */
export function teacherOptions(c: Cfg): MultiModelSegOptions {
  const img = num(c.img_size);
  const pid = c.pidinet as Cfg;
  const fus = c.fusion as Cfg;
  const dec = c.decoder as Cfg;
  const hyper = dec.hypernet_mlp as number[];
  const up = dec.upscaling_channels as [number, number];
  const emb = num(c.image_embedding_size);
  return {
    model_list: c.model_order as EncoderName[],
    img_size: img,
    medsam: medsamOptionsFromConfig(c.medsam as Cfg, { img_size: img }),
    pidinet: {
      inplane: num(pid.inplane),
      pdcs: pid.pdc_per_layer as PdcType[],
      dil: pid.dil === null ? undefined : num(pid.dil),
      sa: Boolean(pid.sa),
      norm_mean: pid.norm_mean as number[],
      norm_std: pid.norm_std as number[],
      norm_pre_scale: num(pid.norm_pre_scale),
    },
    plip: (c.plip as Cfg).clip_vision_config as CLIPVisionConfig,
    fusion: {
      embed_dim: num(fus.embed_dim),
      depth: num(fus.depth),
      num_heads: num(fus.num_heads),
      num_tokens: num(fus.share_token_num),
      out_chans: num(fus.out_chans),
      mlp_ratio: num(fus.mlp_ratio),
      qkv_bias: Boolean(fus.qkv_bias),
      layernorm_eps: num(fus.layernorm_eps),
      layernorm2d_eps: num(fus.layernorm2d_eps),
      fin_mlp_hidden: num(fus.finblock_mlp_hidden),
      out_size: [emb, emb],
    },
    require_attn: Boolean(fus.require_atten),
    num_classes: num(c.num_classes),
    decoder: {
      transformer_dim: num(dec.transformer_dim),
      transformer_depth: num(dec.transformer_depth),
      transformer_mlp_dim: num(dec.transformer_mlp_dim),
      transformer_num_heads: num(dec.transformer_num_heads),
      attention_downsample_rate: num(dec.attention_downsample_rate),
      mask_in_chans: num(dec.mask_in_chans),
      upscaling_channels: up,
      hypernet_hidden_dim: hyper[0],
      hypernet_num_layers: hyper.length,
    },
    train_iter: num(c.train_iter),
    test_iter: num(c.test_iter),
    pixel_mean: c.wrapper_pixel_mean as number[],
    pixel_std: c.wrapper_pixel_std as number[],
  };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((k, i) => k === b[i]);

export function run(f: Fixture): KindResult {
  const c = f.config;
  const lora = c.lora as Cfg;
  const loss = c.loss as Cfg;
  const net = new LoRAMultiModelSeg(new MultiModelSeg(teacherOptions(c)), {
    rank: num(lora.rank),
    model_for_lora: lora.model_for_lora as EncoderName[],
    lora_layer: lora.lora_layers as number[],
  }).to(f.device);
  net.load_state_dict(f.weights);
  const checks: ExtraCheck[] = [];
  const keys = [...net.state_dict().keys()];
  checks.push({ name: 'state_dict keys and order', ok: sameList(keys, [...f.weights.keys()]), detail: `${keys.length} keys` });

  const image = torch.tidy(() => f.inputs.get('image_u8')!.float().div(255));
  const target = f.inputs.get('target')!;

  // Forward in eval mode, every intermediate traced.
  net.eval();
  const models = c.model_order as string[];
  const names: Record<string, string> = {
    ...fusionProbes('sam.image_encoder.', models, num((c.fusion as Cfg).depth)),
    X_f: 'sam.image_encoder',
    image_pe: 'sam.mask_decoder:in1',
    'decoder.iter0.dense_mask_embedding': 'sam.prompt_encoder.mask_downscaling',
    'decoder.iter0.transformer.hs': 'sam.mask_decoder.transformer.0',
    'decoder.iter0.transformer.src': 'sam.mask_decoder.transformer.1',
    'decoder.iter0.upscaled_embedding': 'sam.mask_decoder.output_upscaling',
  };
  for (const m of models) names[`encoder.${m}`] = `sam.image_encoder.${m}`;
  for (let i = 0; i < num(c.num_classes); i++)
    names[`decoder.iter0.hyper_in.class${i}`] = `sam.mask_decoder.output_hypernetworks_mlps.${i}`;
  const { result, traced: outputs } = traceModules(net, names, () => torch.no_grad(() => net.forward(image)));
  outputs.set('init_masks', net.sam.prompt_encoder.init_masks.weight.detach().clone().keep());
  for (const [i, t] of result.low_res_logits_list.entries()) outputs.set(`low_res_logits.${i}`, t);
  for (const [i, t] of result.high_res_logits_list.entries()) outputs.set(`high_res_logits.${i}`, t);
  outputs.set('feats', result.feats);

  // The extra test pass with test_iter = 2 (on the same X_f).
  const sam = net.sam;
  const testIter = sam.test_iter;
  sam.test_iter = 2;
  const iter2 = torch.no_grad(() => net.forward(image, 'test', result.feats));
  sam.test_iter = testIter;
  for (const [i, t] of iter2.low_res_logits_list.entries()) outputs.set(`iter2.low_res_logits.${i}`, t);
  torch.dispose(iter2.high_res_logits_list);

  // Training forward, loss on the last high-res logits, backward of loss.total.
  net.train();
  const weights = {
    dice: loss.mask_iou_weight as number[],
    bce: loss.mask_bce_weight as number[],
    focal: loss.mask_focal_weight as number[],
    focal_factor: num(c.focal_default_weight),
    dice_smooth: num(c.dice_smooth ?? 1),
    dice_eps: num(c.dice_eps ?? 1e-7),
    all_terms: true,
  };
  const targetB = torch.tidy(() => {
    const keep = torch.ones([target.size(1)], { device: f.device });
    keep.narrow(0, num(c.target_b_extra_absent_class), 1).fill_(0);
    return target.mul(keep.view(1, -1, 1, 1));
  });
  torch.tidy(() => {
    const logits = net.forward(image).masks;
    for (const [prefix, g] of [
      ['loss', target],
      ['loss_b', targetB],
    ] as const) {
      const terms = segmentationLoss(prefix === 'loss' ? logits : logits.detach(), g, weights);
      for (const [k, v] of Object.entries(terms)) outputs.set(`${prefix}.${k}`, (v.ndim === 0 ? v.reshape(1) : v).detach().keep());
      if (prefix === 'loss') terms.total.backward();
    }
  });

  const params = new Map(net.named_parameters());
  for (const name of c.grad_params as string[]) {
    const p = params.get(name);
    if (p === undefined) throw new Error(`teacher_small: no parameter ${name}`);
    outputs.set(`grad.${name}`, p.grad?.detach() ?? torch.zeros_like(p)); // its own handle: the grad is the parameter's
  }
  const noGrad = (c.trainable_params_without_gradient as string[] | undefined) ?? [];
  for (const name of noGrad) {
    const g = params.get(name)?.grad;
    const zero = g === undefined || torch.tidy(() => g.abs().max().item() === 0);
    checks.push({ name: `${name} gets no gradient`, ok: zero, detail: g === undefined ? 'grad undefined' : 'grad all zero' });
  }

  // Trainable / frozen parameters as parameters.json lists them.
  const pj = JSON.parse(readFileSync(join(f.dir, 'parameters.json'), 'utf8')) as {
    trainable_names: string[];
    frozen_names: string[];
    trainable: number;
    total: number;
  };
  const trainable = net.trainable_parameters().map(([n]) => n);
  const frozen = [...params].filter(([, p]) => !p.requires_grad).map(([n]) => n);
  const want = new Set(pj.trainable_names);
  const extra = trainable.filter((n) => !want.has(n));
  const missing = pj.trainable_names.filter((n) => !trainable.includes(n));
  checks.push({
    name: 'trainable parameter names = parameters.json',
    ok: extra.length === 0 && missing.length === 0,
    detail: `${trainable.length} trainable${extra.length ? `; extra: ${extra.join(', ')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
  });
  const wantFrozen = new Set(pj.frozen_names);
  checks.push({
    name: 'frozen parameter names = parameters.json',
    ok: frozen.length === wantFrozen.size && frozen.every((n) => wantFrozen.has(n)),
    detail: `${frozen.length} frozen`,
  });
  const count = (ps: [string, torch.nn.Parameter][]) => ps.reduce((n, [, p]) => n + p.numel(), 0);
  const nTrain = count(net.trainable_parameters());
  const nTotal = count([...params]);
  checks.push({
    name: 'parameter counts',
    ok: nTrain === pj.trainable && nTotal === pj.total,
    detail: `${nTotal} total (${pj.total}), ${nTrain} trainable (${pj.trainable})`,
  });

  net.dispose();
  torch.dispose([image, targetB]);
  return { outputs, checks };
}
