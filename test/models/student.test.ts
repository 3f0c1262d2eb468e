// The student (TinyViT-5M + PromptEncoderIter + MaskDecoderIterSimple) and the shared semantic decoder:
// sizes, BatchNorm modes, gradients, the refinement loop and batching.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { imageByImage } from '../../src/models/common.js';
import { MaskDecoderIterSimple, postprocess_masks } from '../../src/models/decoder/mask_decoder.js';
import { PromptEncoderIter } from '../../src/models/decoder/prompt_encoder.js';
import { TwoWayTransformer } from '../../src/models/decoder/transformer.js';
import { Student } from '../../src/models/student.js';
import { Attention } from '../../src/models/tinyvit/attention.js';
import { Conv2dBN } from '../../src/models/tinyvit/conv2d_bn.js';
import { TinyViT } from '../../src/models/tinyvit/tiny_vit.js';
import { traceModules } from '../../src/models/trace.js';
import * as torch from '../../src/torch/index.js';
import { fixture } from '../helpers/fixtures.js';
import { Rng } from '../helpers/prng.js';

type Tensor = torch.Tensor;

const count = (m: torch.nn.Module): number => m.parameters().reduce((n, p) => n + p.numel(), 0);
const maxAbs = (t: Tensor): number => torch.tidy(() => t.abs().max().item());
const maxDiff = (a: Tensor, b: Tensor): number => torch.tidy(() => a.sub(b).abs().max().item());
const randImage = (rng: Rng, b: number, size: number): Tensor =>
  torch.fromTypedArray(new Float32Array(rng.uniform(b * 3 * size * size, 0, 1)), [b, 3, size, size]);

/** A small decoder (width 32) for the refinement tests. */
function smallDecoder(): { pe: PromptEncoderIter; dec: MaskDecoderIterSimple } {
  torch.manual_seed(3);
  const pe = new PromptEncoderIter({
    embed_dim: 32,
    image_embedding_size: [4, 4],
    input_image_size: [64, 64],
    num_class: 3,
    mask_in_chans: 8,
  });
  const transformer = new TwoWayTransformer({ depth: 2, embedding_dim: 32, num_heads: 2, mlp_dim: 64 });
  const dec = new MaskDecoderIterSimple({ transformer_dim: 32, transformer, num_mask_tokens: 3 });
  return { pe, dec };
}

describe('Student', () => {
  test('the real-size student has 9,676,024 parameters (TinyViT 5,745,816 incl. the unused head)', () => {
    const net = new Student({ img_size: 512, num_classes: 4 });
    assert.equal(count(net), 9_676_024);
    assert.equal(count(net.image_encoder), 5_745_816);
    assert.equal(count(net.image_encoder.norm_head) + count(net.image_encoder.head), 1924);
    assert.equal(count(net.prompt_encoder), 5_760);
    assert.equal(count(net.mask_decoder), 3_924_448);
    assert.deepEqual(net.image_encoder.resolutions, [128, 64, 32, 32]);
    const sd = net.state_dict();
    assert.ok(!sd.has('image_encoder.norm_mean') && !sd.has('image_encoder.layers.1.blocks.0.attn.attention_bias_idxs'));
    assert.deepEqual(sd.get('prompt_encoder.pe_layer.positional_encoding_gaussian_matrix')?.shape, [2, 128]);
    net.dispose();
  });

  test('BatchNorm uses batch statistics in train mode (updating the running ones) and running statistics in eval', () => {
    torch.manual_seed(0);
    const m = new Conv2dBN(3, 4, 3, 1, 1);
    const rng = new Rng(1);
    const x = torch.fromTypedArray(new Float32Array(rng.uniform(2 * 3 * 6 * 6, -2, 3)), [2, 3, 6, 6]);
    torch.no_grad(() => {
      m.bn.running_mean!.copy_(torch.tensor([0.5, -0.2, 0.1, 0.3]));
      m.bn.running_var!.copy_(torch.tensor([2, 0.5, 1.5, 3]));
      m.bn.weight!.copy_(torch.tensor([1.5, 0.7, -1, 2]));
      m.bn.bias!.copy_(torch.tensor([0.1, 0.2, 0.3, -0.4]));
    });
    const conv = torch.no_grad(() => m.c.forward(x));
    const expectEval = torch.tidy(() =>
      conv
        .sub(m.bn.running_mean!.view(1, -1, 1, 1))
        .div(m.bn.running_var!.add(1e-5).sqrt().view(1, -1, 1, 1))
        .mul(m.bn.weight!.view(1, -1, 1, 1))
        .add(m.bn.bias!.view(1, -1, 1, 1)),
    );
    const yEval = torch.no_grad(() => m.eval().forward(x));
    assert.ok(maxDiff(yEval, expectEval) < 1e-5);
    assert.equal(m.bn.num_batches_tracked!.item(), 0);

    const yTrain = torch.no_grad(() => m.train().forward(x));
    const mean = torch.tidy(() => conv.mean([0, 2, 3]));
    const expectTrain = torch.tidy(() => {
      const v = conv.var([0, 2, 3], { correction: 0 });
      return conv
        .sub(mean.view(1, -1, 1, 1))
        .div(v.add(1e-5).sqrt().view(1, -1, 1, 1))
        .mul(m.bn.weight!.view(1, -1, 1, 1))
        .add(m.bn.bias!.view(1, -1, 1, 1));
    });
    assert.ok(maxDiff(yTrain, expectTrain) < 1e-5);
    assert.ok(maxDiff(yTrain, yEval) > 0.1);
    const expectRunning = torch.tidy(() => torch.tensor([0.5, -0.2, 0.1, 0.3]).mul(0.9).add(mean.mul(0.1)));
    assert.ok(maxDiff(m.bn.running_mean!, expectRunning) < 1e-6);
    assert.equal(m.bn.num_batches_tracked!.item(), 1);
    torch.dispose([x, conv, expectEval, yEval, yTrain, mean, expectTrain, expectRunning]);
    m.dispose();
  });

  test('eval mode reuses the folded conv weights and the attention bias table only while their inputs are unchanged', () => {
    torch.manual_seed(4);
    const live = torch.memory_stats().tensors;
    const m = new Conv2dBN(3, 4, 3, 1, 1).eval();
    const x = torch.tidy(() => torch.rand([1, 3, 5, 5]));
    // the unfolded formula on the module's current tensors
    const expected = (xi: Tensor): Tensor =>
      torch.no_grad(() =>
        torch.tidy(() =>
          m.c
            .forward(xi)
            .sub(m.bn.running_mean!.view(1, -1, 1, 1))
            .div(m.bn.running_var!.add(1e-5).sqrt().view(1, -1, 1, 1))
            .mul(m.bn.weight!.view(1, -1, 1, 1))
            .add(m.bn.bias!.view(1, -1, 1, 1)),
        ),
      );
    const check = (what: string): void =>
      torch.tidy(() => {
        const xi = x.to(m.c.weight.dtype);
        const y = torch.no_grad(() => m.forward(xi));
        assert.equal(y.dtype, m.c.weight.dtype, what);
        assert.ok(maxDiff(y, expected(xi)) < 1e-5, what);
      });
    check('first forward');
    const sgd = new torch.optim.SGD(m.parameters(), { lr: 0.5 });
    torch.tidy(() => m.train().forward(x).square().sum().backward()); // also moves the running statistics
    sgd.step();
    m.eval();
    check('after an optimizer step and a train-mode forward');
    const other = new Conv2dBN(3, 4, 3, 1, 1);
    torch.no_grad(() => other.bn.running_var!.fill_(3));
    m.load_state_dict(other.state_dict());
    check('after load_state_dict');
    torch.no_grad(() => m.c.weight.mul_(2));
    check('after an in-place write');
    m.to('float64');
    torch.tidy(() => check('after to(float64)'));
    // with grad, eval mode still reaches the batch-norm parameters (no cached, graph-less weights)
    m.to('float32');
    torch.tidy(() => m.forward(x).sum().backward());
    assert.ok(m.bn.weight!.grad !== undefined && maxAbs(m.bn.weight!.grad) > 0);

    const attn = new Attention(8, 4, 2, 1, [3, 3]);
    const first = torch.tidy(() =>
      torch.no_grad(() => attn.attention_biases.copy_(torch.rand(attn.attention_biases.shape)) && attn.bias().clone()),
    );
    torch.no_grad(() => attn.attention_biases.add_(1));
    assert.equal(
      torch.tidy(() => torch.no_grad(() => maxDiff(attn.bias(), first.add(1)))),
      0,
    );
    torch.dispose([x, first]);
    for (const mod of [m, other, attn]) mod.dispose();
    assert.equal(torch.memory_stats().tensors, live, 'dispose() releases the cached tensors too');
  });

  test('a backward pass reaches the encoder, the prompt encoder and the decoder, but not init_masks', () => {
    torch.manual_seed(1);
    const net = new Student({ img_size: 512, num_classes: 4 }).train();
    const x = randImage(new Rng(2), 1, 512);
    torch.tidy(() => {
      const out = net.forward(x, 'train');
      assert.deepEqual(out.masks.shape, [1, 4, 512, 512]);
      const loss = out.masks.sigmoid().mean().add(out.image_embedding.square().mean());
      loss.backward();
    });
    const grads = new Map(net.named_parameters().map(([k, p]) => [k, p.grad]));
    for (const k of [
      'image_encoder.patch_embed.seq.0.c.weight',
      'image_encoder.layers.0.blocks.0.conv3.bn.weight',
      'image_encoder.layers.1.blocks.0.attn.attention_biases',
      'image_encoder.layers.2.blocks.5.attn.qkv.weight',
      'image_encoder.layers.3.blocks.1.mlp.fc2.weight',
      'image_encoder.neck.3.weight',
      'prompt_encoder.cls_embeddings.2.weight',
      'prompt_encoder.mask_downscaling.6.bias',
      'mask_decoder.output_hypernetworks_mlps.1.layers.2.weight',
    ]) {
      const g = grads.get(k);
      assert.ok(g !== undefined, `${k} has no gradient`);
      assert.ok(maxAbs(g) > 0, `${k} has a zero gradient`);
    }
    const gInit = grads.get('prompt_encoder.init_masks.weight');
    assert.ok(gInit === undefined || maxAbs(gInit) === 0, 'init_masks must get no gradient');
    // The unused classification head takes no part.
    assert.equal(grads.get('image_encoder.head.weight'), undefined);
    torch.dispose([x, [...grads.values()]]);
    net.dispose();
  });

  test('a batch of 2 gives per-sample results equal to single-image runs', () => {
    torch.manual_seed(2);
    const net = new Student({ img_size: 512, num_classes: 4 }).eval();
    const x = randImage(new Rng(3), 2, 512);
    torch.tidy(() => torch.no_grad(() => net.forward(x, 'test'))); // fills the eval-mode caches (folded weights)
    const live = torch.memory_stats().tensors;
    torch.tidy(() =>
      torch.no_grad(() => {
        const out = net.forward(x, 'test');
        assert.equal(out.low_res_logits.length, 1);
        assert.deepEqual(out.low_res_logits[0]!.shape, [2, 4, 128, 128]);
        assert.deepEqual(out.high_res_logits[0]!.shape, [2, 4, 512, 512]);
        assert.deepEqual(out.image_embedding.shape, [2, 256, 32, 32]);
        assert.ok(out.masks.is_same(out.high_res_logits[0]!));
        for (let i = 0; i < 2; i++) {
          const one = net.forward(x.narrow(0, i, 1), 'test');
          const tol = 1e-4 * Math.max(1, maxAbs(one.masks));
          assert.ok(maxDiff(one.image_embedding, out.image_embedding.narrow(0, i, 1)) <= tol);
          assert.ok(maxDiff(one.masks, out.masks.narrow(0, i, 1)) <= tol);
        }
        assert.ok(maxDiff(out.masks.narrow(0, 0, 1), out.masks.narrow(0, 1, 1)) > 1e-3);
      }),
    );
    assert.equal(torch.memory_stats().tensors, live, 'every intermediate is released');
    x.dispose();
    net.dispose();
  });
});

describe("imageByImage (the student's high-resolution stages in eval)", () => {
  test('applies f to each image alone and concatenates, so a batch statistic in f sees one image', () => {
    const x = torch.tensor([
      [1, 2],
      [10, 30],
      [-4, 0],
    ]);
    const y = imageByImage(x, (t) => t.sub(t.mean()));
    assert.deepEqual(y.toArray(), [-0.5, 0.5, -10, 10, -2, 2]);
    const one = x.narrow(0, 1, 1);
    const same = imageByImage(one, (t) => t);
    assert.ok(same.is_same(one), 'a batch of one is passed through');
    torch.dispose([x, y, one]);
  });

  test("in train mode the patch embedding's BatchNorm still takes its statistics over the whole batch", () => {
    torch.manual_seed(4);
    const vit = new TinyViT({ img_size: 512, embed_dims: [16, 32, 32, 64], num_heads: [1, 2, 2, 2], window_sizes: [8, 8, 8, 8] });
    assert.ok(vit.imageByImageInEval, 'a network whose eval goes image by image');
    const bn = (vit.patch_embed.seq.items[0] as Conv2dBN).bn;
    const rng = new Rng(5);
    const x = torch.tidy(() => torch.cat([randImage(rng, 1, 512), randImage(rng, 1, 512).mul(0.2)], 0)); // two unlike images
    const conv = torch.no_grad(() => (vit.patch_embed.seq.items[0] as Conv2dBN).c.forward(vit.preprocess(x)));
    const before = bn.running_mean!.clone();
    torch.no_grad(() => torch.tidy(() => vit.train().forward(x)));
    const expected = torch.tidy(() => before.mul(0.9).add(conv.mean([0, 2, 3]).mul(0.1)));
    assert.ok(maxDiff(bn.running_mean!, expected) < 1e-6);
    const firstOnly = torch.tidy(() => before.mul(0.9).add(conv.narrow(0, 0, 1).mean([0, 2, 3]).mul(0.1)));
    assert.ok(maxDiff(bn.running_mean!, firstOnly) > 1e-3, 'the two images differ enough to tell');
    torch.dispose([x, conv, before, expected, firstOnly]);
    vit.dispose();
  });
});

describe('MaskDecoderIterSimple', () => {
  test('iter=2: the second pass adds its prediction to the detached first logits; tokens get gradients, init_masks none', () => {
    const { pe, dec } = smallDecoder();
    const feats = torch.randn([2, 32, 4, 4]);
    const image_pe = pe.get_dense_pe();
    const outs = dec.forward(feats, image_pe, pe, 2);
    assert.equal(outs.length, 2);
    assert.deepEqual(outs[1]!.shape, [2, 3, 16, 16]);
    // The second pass recomputed from the first pass's logits.
    const again = torch.no_grad(() =>
      dec.inner_loop(outs[0]!, pe.obtain_cls_embedding().unsqueeze(0).expand(2, -1, -1), feats, image_pe.expand(2, -1, -1, -1), pe),
    );
    assert.ok(maxDiff(again, outs[1]!) < 1e-5);
    assert.ok(maxDiff(outs[1]!, outs[0]!) > 1e-3);
    torch.tidy(() => outs[1]!.square().mean().backward());
    assert.ok(maxAbs(pe.cls_embeddings.at(0).weight.grad!) > 0);
    assert.ok(
      maxAbs((pe.mask_downscaling.at(0) as torch.nn.Conv2d).weight.grad!) > 0,
      'pass 2 embeds pass 1 logits through mask_downscaling',
    );
    const g = pe.init_masks.weight.grad;
    assert.ok(g === undefined || maxAbs(g) === 0);
    torch.dispose([feats, image_pe, outs, again, g]);

    // With a zero hypernetwork output every pass returns its input: the residual carries the init logits.
    torch.no_grad(() => {
      for (const mlp of dec.output_hypernetworks_mlps) {
        mlp.layers.at(-1).weight.zero_();
        mlp.layers.at(-1).bias!.zero_();
      }
    });
    torch.tidy(() =>
      torch.no_grad(() => {
        const f = torch.randn([1, 32, 4, 4]);
        const o = dec.forward(f, pe.get_dense_pe(), pe, 2);
        const init = pe.init_masks.weight.view(1, 3, 1, 1).expand(1, 3, 16, 16);
        assert.ok(maxDiff(o[0]!, init) === 0 && maxDiff(o[1]!, init) === 0);
      }),
    );
    pe.dispose();
    dec.dispose();
  });

  test('reproduces the teacher_small decoder (width 64) from its stored X_f, including iter=2', () => {
    const weights = torch.io.load_safetensors(fixture('teacher_small', 'weights.safetensors')).tensors;
    const ref = torch.io.load_safetensors(fixture('teacher_small', 'outputs.safetensors')).tensors;
    const pe = new PromptEncoderIter({
      embed_dim: 64,
      image_embedding_size: [8, 8],
      input_image_size: [128, 128],
      num_class: 4,
      mask_in_chans: 16,
    });
    const transformer = new TwoWayTransformer({ depth: 2, embedding_dim: 64, num_heads: 4, mlp_dim: 256, attention_downsample_rate: 2 });
    const dec = new MaskDecoderIterSimple({
      transformer_dim: 64,
      transformer,
      num_mask_tokens: 4,
      upscaling_channels: [16, 8],
      hypernet_hidden_dim: 64,
      hypernet_num_layers: 3,
    });
    const sub = (prefix: string) =>
      new Map([...weights].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    pe.load_state_dict(sub('sam.prompt_encoder.'));
    dec.load_state_dict(sub('sam.mask_decoder.'));
    pe.eval();
    dec.eval();
    const xf = ref.get('X_f')!;
    const names: Record<string, string> = {
      image_pe: ':in1',
      'decoder.iter0.transformer.hs': 'transformer.0',
      'decoder.iter0.transformer.src': 'transformer.1',
      'decoder.iter0.upscaled_embedding': 'output_upscaling',
    };
    for (let i = 0; i < 4; i++) names[`decoder.iter0.hyper_in.class${i}`] = `output_hypernetworks_mlps.${i}`;
    // The prompt encoder is not a part of the decoder: its mask embedding is traced from it, in the same run.
    const forward = () => torch.no_grad(() => dec.forward(xf, pe.get_dense_pe(), pe, 1));
    const inner = () => traceModules(pe, { 'decoder.iter0.dense_mask_embedding': 'mask_downscaling' }, forward);
    const { result: decoded, traced } = traceModules(dec, names, inner);
    const { result } = decoded;
    const produced = new Map([...traced, ...decoded.traced]);
    produced.set('init_masks', pe.init_masks.weight.detach().clone().keep());
    produced.set('low_res_logits.0', result[0]!);
    produced.set(
      'high_res_logits.0',
      torch.no_grad(() => postprocess_masks(result[0]!, [128, 128])),
    );
    const iter2 = torch.no_grad(() => dec.forward(xf, pe.get_dense_pe(), pe, 2));
    produced.set('iter2.low_res_logits.0', iter2[0]!);
    produced.set('iter2.low_res_logits.1', iter2[1]!);
    let compared = 0;
    for (const [name, r] of ref) {
      if (!(name.startsWith('decoder.') || name.includes('logits') || name === 'image_pe' || name === 'init_masks')) continue;
      const mine = produced.get(name);
      assert.ok(mine !== undefined, `${name} not produced`);
      assert.deepEqual(mine.shape, r.shape, name);
      const d = maxDiff(mine, r);
      assert.ok(d <= 1e-4 * Math.max(1, maxAbs(r)), `${name}: diff ${d}`);
      compared++;
    }
    assert.equal(compared, 14);
    torch.dispose([weights, ref, [...produced.values()], iter2]);
    pe.dispose();
    dec.dispose();
  });
});
