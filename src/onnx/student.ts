// The student (TinyViT-5M + PromptEncoderIter + MaskDecoderIterSimple) as an ONNX graph, emitted module by
// module from the loaded network, eval mode, `test_iter` refinement passes. The batch dim stays symbolic:
// every Reshape keeps it with 0 or infers it with -1, and the batch-free constants (class tokens,
// positional encoding, initial logits) broadcast against it.
import { LayerNorm2d } from '../models/common.js';
import type { MaskDecoderIterSimple, MLP } from '../models/decoder/mask_decoder.js';
import type { PromptEncoderIter } from '../models/decoder/prompt_encoder.js';
import type { Attention as SamAttention, TwoWayAttentionBlock, TwoWayTransformer } from '../models/decoder/transformer.js';
import type { Student } from '../models/student.js';
import type { Attention } from '../models/tinyvit/attention.js';
import type { BasicLayer } from '../models/tinyvit/basic_layer.js';
import { ConvLayer } from '../models/tinyvit/conv_layer.js';
import type { Conv2dBN } from '../models/tinyvit/conv2d_bn.js';
import type { MBConv } from '../models/tinyvit/mbconv.js';
import type { PatchMerging } from '../models/tinyvit/patch_merging.js';
import type { TinyViT } from '../models/tinyvit/tiny_vit.js';
import type { TinyViTBlock } from '../models/tinyvit/tinyvit_block.js';
import * as torch from '../torch/index.js';
import { Graph, int, ints } from './graph.js';
import { conv2d, convBN, convTranspose2d, gelu, layerNorm, layerNorm2d, linear, tokenMap, tokens, weight } from './nn.js';

// ---- TinyViT ----

function mbconv(g: Graph, m: MBConv, x: string, p: string): string {
  const y = convBN(g, m.conv3, gelu(g, convBN(g, m.conv2, gelu(g, convBN(g, m.conv1, x, `${p}.conv1`)), `${p}.conv2`)), `${p}.conv3`);
  return gelu(g, g.op('Add', [y, x]));
}

/** NCHW or tokens in, tokens out. */
function patchMerging(g: Graph, m: PatchMerging, x: string, tokensIn: boolean, inDim: number, p: string): string {
  const [H, W] = m.input_resolution;
  const img = tokensIn ? tokenMap(g, x, H, W, inDim) : x;
  const y = convBN(g, m.conv3, gelu(g, convBN(g, m.conv2, gelu(g, convBN(g, m.conv1, img, `${p}.conv1`)), `${p}.conv2`)), `${p}.conv3`);
  return tokens(g, y, m.conv3.c.out_channels);
}

function attention(g: Graph, m: Attention, x: string, n: number, p: string): string {
  const qkv = g.op(
    'Transpose',
    [g.op('Reshape', [linear(g, m.qkv, layerNorm(g, m.norm, x, `${p}.norm`), `${p}.qkv`), g.i64([0, 0, m.num_heads, -1])])],
    {
      perm: ints([0, 2, 1, 3]),
    },
  );
  const [q, k, v] = g.opN('Split', [qkv, g.i64([m.key_dim, m.key_dim, m.d])], { axis: int(3) }, 3) as [string, string, string];
  const qk = g.op('MatMul', [q, g.op('Transpose', [k], { perm: ints([0, 1, 3, 2]) })]);
  const bias = torch.tidy(() => weight(g, `${p}.attention_bias`, m.bias().view(1, m.num_heads, n, n)));
  const attn = g.op('Softmax', [g.op('Add', [bias, g.op('Mul', [qk, g.scalar(m.scale)])])], { axis: int(-1) });
  const out = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, v])], { perm: ints([0, 2, 1, 3]) }), g.i64([0, 0, m.dh])]);
  return linear(g, m.proj, out, `${p}.proj`);
}

function windowAttention(g: Graph, m: TinyViTBlock, x: string, c: number, p: string): string {
  const [H, W] = m.input_resolution;
  const ws = m.window_size;
  if (H === ws && W === ws) return attention(g, m.attn, x, ws * ws, `${p}.attn`);
  const padB = (ws - (H % ws)) % ws;
  const padR = (ws - (W % ws)) % ws;
  let t = g.op('Reshape', [x, g.i64([-1, H, W, c])]);
  if (padB > 0 || padR > 0) t = g.op('Pad', [t, g.i64([0, 0, 0, 0, 0, padB, padR, 0])]);
  const pH = H + padB;
  const pW = W + padR;
  const nH = pH / ws;
  const nW = pW / ws;
  const swap = { perm: ints([0, 1, 3, 2, 4, 5]) };
  t = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [t, g.i64([-1, nH, ws, nW, ws, c])])], swap), g.i64([-1, ws * ws, c])]);
  t = attention(g, m.attn, t, ws * ws, `${p}.attn`);
  t = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [t, g.i64([-1, nH, nW, ws, ws, c])])], swap), g.i64([-1, pH, pW, c])]);
  if (padB > 0 || padR > 0) t = g.op('Slice', [t, g.i64([0, 0]), g.i64([H, W]), g.i64([1, 2])]);
  return g.op('Reshape', [t, g.i64([-1, H * W, c])]);
}

function tinyvitBlock(g: Graph, m: TinyViTBlock, x: string, c: number, p: string): string {
  const [H, W] = m.input_resolution;
  const a = g.op('Add', [x, windowAttention(g, m, x, c, p)]);
  const local = convBN(g, m.local_conv, tokenMap(g, a, H, W, c), `${p}.local_conv`);
  const y = g.op('Reshape', [g.op('Transpose', [local], { perm: ints([0, 2, 3, 1]) }), g.i64([-1, H * W, c])]);
  const mlp = m.mlp;
  const h = gelu(g, linear(g, mlp.fc1, layerNorm(g, mlp.norm, y, `${p}.mlp.norm`), `${p}.mlp.fc1`));
  return g.op('Add', [y, linear(g, mlp.fc2, h, `${p}.mlp.fc2`)]);
}

function tinyvit(g: Graph, m: TinyViT, image: string, p: string): string {
  const pre = g.op('Div', [
    g.op('Sub', [g.op('Mul', [image, weight(g, `${p}.norm_pre_scale`, m.norm_pre_scale)]), weight(g, `${p}.norm_mean`, m.norm_mean)]),
    g.op('Add', [weight(g, `${p}.norm_std`, m.norm_std), g.scalar(1e-6)]),
  ]);
  const [pe0, , pe2] = m.patch_embed.seq.items as [Conv2dBN, unknown, Conv2dBN];
  let x = convBN(g, pe2, gelu(g, convBN(g, pe0, pre, `${p}.patch_embed.seq.0`)), `${p}.patch_embed.seq.2`);
  let isTokens = false;
  let dim = pe2.c.out_channels;
  m.layers.items.forEach((layer, i) => {
    const lp = `${p}.layers.${i}`;
    if (layer instanceof ConvLayer) {
      for (const [j, b] of layer.blocks.items.entries()) x = mbconv(g, b, x, `${lp}.blocks.${j}`);
    } else {
      for (const [j, b] of (layer as BasicLayer).blocks.items.entries()) x = tinyvitBlock(g, b, x, dim, `${lp}.blocks.${j}`);
    }
    if (layer.downsample) {
      x = patchMerging(g, layer.downsample, x, isTokens, dim, `${lp}.downsample`);
      isTokens = true;
      dim = layer.downsample.conv3.c.out_channels;
    }
  });
  const r = m.resolutions.at(-1)!;
  const [c0, n1, c2, n3] = m.neck.items as [torch.nn.Conv2d, LayerNorm2d, torch.nn.Conv2d, LayerNorm2d];
  const y = layerNorm2d(g, n1, conv2d(g, c0, tokenMap(g, x, r, r, dim), `${p}.neck.0`), `${p}.neck.1`);
  return layerNorm2d(g, n3, conv2d(g, c2, y, `${p}.neck.2`), `${p}.neck.3`);
}

// ---- the semantic decoder ----

function samAttention(g: Graph, m: SamAttention, q: string, k: string, v: string, p: string): string {
  const heads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, g.i64([0, 0, m.num_heads, -1])])], { perm: ints([0, 2, 1, 3]) });
  const qh = heads(linear(g, m.q_proj, q, `${p}.q_proj`));
  const kh = heads(linear(g, m.k_proj, k, `${p}.k_proj`));
  const vh = heads(linear(g, m.v_proj, v, `${p}.v_proj`));
  const logits = g.op('Div', [
    g.op('MatMul', [qh, g.op('Transpose', [kh], { perm: ints([0, 1, 3, 2]) })]),
    g.scalar(Math.sqrt(m.internal_dim / m.num_heads)),
  ]);
  const attn = g.op('Softmax', [logits], { axis: int(-1) });
  const out = g.op('Reshape', [
    g.op('Transpose', [g.op('MatMul', [attn, vh])], { perm: ints([0, 2, 1, 3]) }),
    g.i64([0, 0, m.internal_dim]),
  ]);
  return linear(g, m.out_proj, out, `${p}.out_proj`);
}

function twoWayBlock(
  g: Graph,
  m: TwoWayAttentionBlock,
  queries: string,
  keys: string,
  qpe: string,
  kpe: string,
  p: string,
): [string, string] {
  let qs: string;
  if (m.skip_first_layer_pe) qs = samAttention(g, m.self_attn, queries, queries, queries, `${p}.self_attn`);
  else {
    const q = g.op('Add', [queries, qpe]);
    qs = g.op('Add', [queries, samAttention(g, m.self_attn, q, q, queries, `${p}.self_attn`)]);
  }
  qs = layerNorm(g, m.norm1, qs, `${p}.norm1`);
  const kp = g.op('Add', [keys, kpe]);
  const t2i = samAttention(g, m.cross_attn_token_to_image, g.op('Add', [qs, qpe]), kp, keys, `${p}.cross_attn_token_to_image`);
  qs = layerNorm(g, m.norm2, g.op('Add', [qs, t2i]), `${p}.norm2`);
  const mlp = linear(g, m.mlp.lin2, g.op('Relu', [linear(g, m.mlp.lin1, qs, `${p}.mlp.lin1`)]), `${p}.mlp.lin2`);
  qs = layerNorm(g, m.norm3, g.op('Add', [qs, mlp]), `${p}.norm3`);
  const i2t = samAttention(g, m.cross_attn_image_to_token, kp, g.op('Add', [qs, qpe]), qs, `${p}.cross_attn_image_to_token`);
  return [qs, layerNorm(g, m.norm4, g.op('Add', [keys, i2t]), `${p}.norm4`)];
}

function twoWayTransformer(g: Graph, m: TwoWayTransformer, src: string, keyPe: string, tokensIn: string, p: string): [string, string] {
  let queries = tokensIn;
  let keys = tokens(g, src, m.embedding_dim);
  for (const [i, layer] of m.layers.items.entries()) {
    [queries, keys] = twoWayBlock(g, layer, queries, keys, tokensIn, keyPe, `${p}.layers.${i}`);
  }
  const attn = samAttention(
    g,
    m.final_attn_token_to_image,
    g.op('Add', [queries, tokensIn]),
    g.op('Add', [keys, keyPe]),
    keys,
    `${p}.final_attn_token_to_image`,
  );
  return [layerNorm(g, m.norm_final_attn, g.op('Add', [queries, attn]), `${p}.norm_final_attn`), keys];
}

function hypernet(g: Graph, m: MLP, x: string, p: string): string {
  let y = x;
  m.layers.items.forEach((layer, i) => {
    y = linear(g, layer, y, `${p}.layers.${i}`);
    if (i < m.layers.length - 1) y = g.op('Relu', [y]);
  });
  return y;
}

function maskDownscaling(g: Graph, m: PromptEncoderIter, masks: string, p: string): string {
  let y = masks;
  m.mask_downscaling.items.forEach((layer, i) => {
    const lp = `${p}.mask_downscaling.${i}`;
    if (layer instanceof LayerNorm2d) y = layerNorm2d(g, layer, y, lp);
    else if (layer instanceof torch.nn.Conv2d) y = conv2d(g, layer, y, lp);
    else y = gelu(g, y);
  });
  return y;
}

/** The refinement loop; returns the low-res logits of every pass. */
function decoder(g: Graph, m: MaskDecoderIterSimple, pe: PromptEncoderIter, embedding: string, grid: number, iters: number): string[] {
  const C = m.transformer_dim;
  const [clsTokens, keyPe, init] = torch.tidy(() => [
    weight(g, 'prompt_encoder.cls_tokens', pe.obtain_cls_embedding().unsqueeze(0)), // [1, Ncls, C]
    weight(g, 'prompt_encoder.key_pe', pe.get_dense_pe().flatten(2).permute(0, 2, 1)), // [1, hw, C]
    weight(g, 'prompt_encoder.init_masks', pe.obtain_init_masks(1, 4 * grid, 4 * grid)), // [1, Ncls, 4h, 4w]
  ]);
  const out: string[] = [];
  let masks = init;
  for (let it = 0; it < iters; it++) {
    const src = g.op('Add', [embedding, maskDownscaling(g, pe, masks, 'prompt_encoder')]);
    const [hs, keys] = twoWayTransformer(g, m.transformer, src, keyPe, clsTokens, 'mask_decoder.transformer');
    let up = tokenMap(g, keys, grid, grid, C);
    m.output_upscaling.items.forEach((layer, i) => {
      const lp = `mask_decoder.output_upscaling.${i}`;
      if (layer instanceof LayerNorm2d) up = layerNorm2d(g, layer, up, lp);
      else if (layer instanceof torch.nn.ConvTranspose2d) up = convTranspose2d(g, layer, up, lp);
      else up = gelu(g, up);
    });
    const hyper = m.output_hypernetworks_mlps.items.map(
      (mlp, i) => hypernet(g, mlp, g.op('Gather', [hs, g.i64([i])], { axis: int(1) }), `mask_decoder.output_hypernetworks_mlps.${i}`), // [B, 1, c2]
    );
    const H = 4 * grid;
    const c2 = m.output_hypernetworks_mlps.items[0]!.layers.items.at(-1)!.out_features;
    const flat = g.op('Reshape', [up, g.i64([0, c2, H * H])]);
    const logits = g.op('Reshape', [g.op('MatMul', [g.op('Concat', hyper, { axis: int(1) }), flat]), g.i64([0, m.num_mask_tokens, H, H])]);
    masks = g.op('Add', [logits, masks]);
    out.push(masks);
  }
  return out;
}

export interface StudentGraphOptions {
  /** Also output the image embedding and the low-res logits (parity checks). */
  intermediates?: boolean;
  /** Output `probabilities` (the sigmoid of the logits, what segmentation uses) instead of `masks`. */
  probabilities?: boolean;
}

/**
 * The student's eval-mode forward as an ONNX graph: input `image` [batch, 3, img, img] RGB in [0, 1];
 * output `masks` [batch, classes, img, img], the final high-res logits, or their sigmoid `probabilities` (and, with intermediates,
 * `low_res_logits` and `image_embedding`).
 */
export function studentGraph(net: Student, o: StudentGraphOptions = {}): Graph {
  const g = new Graph();
  const S = net.img_size;
  const ncls = net.mask_decoder.num_mask_tokens;
  const image = g.input('image', 'float32', ['batch', 3, S, S]);
  const x = g.op('Div', [g.op('Sub', [image, weight(g, 'pixel_mean', net.pixel_mean)]), weight(g, 'pixel_std', net.pixel_std)]);
  const embedding = tinyvit(g, net.image_encoder, x, 'image_encoder');
  const grid = net.image_encoder.resolutions.at(-1)!;
  const low = decoder(g, net.mask_decoder, net.prompt_encoder, embedding, grid, net.test_iter).at(-1)!;
  const scale = S / (4 * grid);
  const masks = g.op('Resize', [low, '', g.init('resize_scales', Float32Array.of(1, 1, scale, scale), [4])], {
    mode: { s: 'linear' },
    coordinate_transformation_mode: { s: 'pytorch_half_pixel' },
  });
  if (o.probabilities) g.output(g.op('Sigmoid', [masks]), 'probabilities', 'float32', ['batch', ncls, S, S]);
  else g.output(masks, 'masks', 'float32', ['batch', ncls, S, S]);
  if (o.intermediates) {
    g.output(low, 'low_res_logits', 'float32', ['batch', ncls, 4 * grid, 4 * grid]);
    g.output(embedding, 'image_embedding', 'float32', ['batch', net.mask_decoder.transformer_dim, grid, grid]);
  }
  return g;
}
