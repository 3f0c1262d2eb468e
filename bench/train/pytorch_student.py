"""bench:train's PyTorch side: mmfd's full-size student (TinyViT-5M + the semantic decoder, 9,676,024
parameters) and the loss of a student step, in plain PyTorch (torch.nn only), ported op for op from
mmfd's TypeScript modules (src/models/tinyvit, src/models/decoder, src/models/common.ts,
src/train/losses.ts). Module and parameter names are mmfd's state-dict keys (the reference's), so
load_state_dict(strict=True) takes a state dict mmfd writes (`mmfd export --format pth`). One difference, on
purpose: in eval at batch > 1 this port keeps the batch through TinyViT's high-resolution stages, as the reference
does, where mmfd runs them image by image (TinyViT.imageByImageInEval), so bench:train's batch-4 figures compare
mmfd with PyTorch running the original code.

Bench-only and optional: Debian's python3-torch (PyTorch 1.13 on the libtorch mmfd links).
  python3 pytorch_student.py time <runs> [state_dict.pth]  one JSON line, the keys bench/train/worker.ts prints
  python3 pytorch_student.py profile <runs> [state_dict.pth]  a step's phases and the autograd profiler's top ops
  python3 pytorch_student.py parity <dir>  compares with mmfd's outputs that bench/train/pytorch_parity.ts wrote
Threads: MMFD_NUM_THREADS, else every core the process may use (mmfd's rule, src/torch/index.ts).
Runtime: the settings mmfd's addon gives itself (src/torch/native.ts, native/src/runtime.cc), so that the sides
differ in the work alone: passive OpenMP waiting, OpenBLAS workers that sleep at once, glibc malloc serving
everything from its heap. MMFD_BENCH_PYTORCH_PLAIN=1 leaves PyTorch's defaults.
"""

import ctypes
import json
import math
import os
import resource
import sys
import time

PLAIN = os.environ.get("MMFD_BENCH_PYTORCH_PLAIN") == "1"


def mmfd_runtime():
    """As mmfd's addon, before libgomp and OpenBLAS load: a user's own settings win."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    if os.environ.get("MMFD_MALLOC_TUNING") == "0" or any(
        k in os.environ for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_")
    ):
        return
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-4, 0)  # M_MMAP_MAX
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD


if not PLAIN:
    mmfd_runtime()

import torch  # noqa: E402  (after the runtime settings, which libgomp reads when it loads)
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

IMG = 512
NUM_CLASSES = 4
# bench/train/checkout.ts's LOSS: Dice and BCE weights per class; focal weights all 0.
LOSS = {"dice": [0.5, 0, 0, 1.5], "bce": [0.5, 2, 2, 0], "focal": [0, 0, 0, 0]}
SAM_PIXEL_MEAN = [123.675, 116.28, 103.53]
SAM_PIXEL_STD = [58.395, 57.12, 57.375]


# ---- TinyViT (src/models/tinyvit) ----


class Conv2dBN(nn.Module):
    def __init__(self, a, b, ks=1, stride=1, pad=0, dilation=1, groups=1):
        super().__init__()
        self.c = nn.Conv2d(a, b, ks, stride, pad, dilation, groups, bias=False)
        self.bn = nn.BatchNorm2d(b)

    def forward(self, x):
        # mmfd folds BN into the convolution in eval mode; the same function, one op fewer.
        return self.bn(self.c(x))


class MBConv(nn.Module):
    def __init__(self, in_chans, out_chans, expand_ratio):
        super().__init__()
        hidden = int(in_chans * expand_ratio)
        self.conv1 = Conv2dBN(in_chans, hidden, 1)
        self.conv2 = Conv2dBN(hidden, hidden, 3, 1, 1, 1, hidden)
        self.conv3 = Conv2dBN(hidden, out_chans, 1)

    def forward(self, x):
        y = self.conv3(F.gelu(self.conv2(F.gelu(self.conv1(x)))))
        return F.gelu(y + x)


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, embed_dim):
        super().__init__()
        self.seq = nn.Sequential(Conv2dBN(in_chans, embed_dim // 2, 3, 2, 1), nn.GELU(), Conv2dBN(embed_dim // 2, embed_dim, 3, 2, 1))

    def forward(self, x):
        return self.seq(x)


class PatchMerging(nn.Module):
    def __init__(self, input_resolution, dim, out_dim, stride):
        super().__init__()
        self.input_resolution = input_resolution
        self.conv1 = Conv2dBN(dim, out_dim, 1)
        self.conv2 = Conv2dBN(out_dim, out_dim, 3, stride, 1, 1, out_dim)
        self.conv3 = Conv2dBN(out_dim, out_dim, 1)

    def forward(self, x):
        h, w = self.input_resolution
        img = x.view(x.size(0), h, w, -1).permute(0, 3, 1, 2) if x.dim() == 3 else x
        y = self.conv3(F.gelu(self.conv2(F.gelu(self.conv1(img)))))
        return y.flatten(2).transpose(1, 2)


def attention_offsets(h, w):
    """Offset index of every (point, point) pair of an h x w window, numbered by first appearance."""
    ids = {}
    idxs = []
    for p1 in range(h * w):
        for p2 in range(h * w):
            key = abs(p1 // w - p2 // w) * w + abs(p1 % w - p2 % w)
            idxs.append(ids.setdefault(key, len(ids)))
    return torch.tensor(idxs, dtype=torch.long).view(h * w, h * w), len(ids)


class Attention(nn.Module):
    def __init__(self, dim, key_dim, num_heads, attn_ratio, resolution):
        super().__init__()
        self.key_dim = key_dim
        self.num_heads = num_heads
        self.scale = key_dim**-0.5
        self.d = int(attn_ratio * key_dim)
        self.dh = self.d * num_heads
        idxs, count = attention_offsets(*resolution)
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, count))
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, self.dh + 2 * key_dim * num_heads)
        self.proj = nn.Linear(self.dh, dim)
        self.register_buffer("attention_bias_idxs", idxs, persistent=False)

    def forward(self, x):
        b, n, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(b, n, self.num_heads, -1).permute(0, 2, 1, 3)
        q, k, v = qkv.split([self.key_dim, self.key_dim, self.d], 3)
        bias = self.attention_biases.index_select(1, self.attention_bias_idxs.view(-1)).view(self.num_heads, n, n)
        attn = torch.add(bias, q.matmul(k.transpose(-2, -1)), alpha=self.scale).softmax(-1)
        return self.proj(attn.matmul(v).transpose(1, 2).reshape(b, n, self.dh))


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.norm = nn.LayerNorm(in_features)
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(self.norm(x))))


class TinyViTBlock(nn.Module):
    def __init__(self, dim, input_resolution, num_heads, window_size, mlp_ratio, local_conv_size):
        super().__init__()
        self.input_resolution = input_resolution
        self.window_size = window_size
        self.attn = Attention(dim, dim // num_heads, num_heads, 1, (window_size, window_size))
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.local_conv = Conv2dBN(dim, dim, local_conv_size, 1, local_conv_size // 2, 1, dim)

    def window_attention(self, x):
        h, w = self.input_resolution
        ws = self.window_size
        b, l, c = x.shape
        if h == ws and w == ws:
            return self.attn(x)
        pad_b = (ws - h % ws) % ws
        pad_r = (ws - w % ws) % ws
        t = x.view(b, h, w, c)
        if pad_b > 0 or pad_r > 0:
            t = F.pad(t, (0, 0, 0, pad_r, 0, pad_b))
        ph, pw = h + pad_b, w + pad_r
        nh, nw = ph // ws, pw // ws
        t = t.view(b, nh, ws, nw, ws, c).transpose(2, 3).reshape(b * nh * nw, ws * ws, c)
        t = self.attn(t)
        t = t.view(b, nh, nw, ws, ws, c).transpose(2, 3).reshape(b, ph, pw, c)
        if pad_b > 0 or pad_r > 0:
            t = t[:, :h, :w]
        return t.reshape(b, l, c)

    def forward(self, x):
        h, w = self.input_resolution
        b, l, c = x.shape
        a = x + self.window_attention(x)
        # as mmfd: the token map read as NCHW in channels-last memory, the conv's output permuted back
        y = self.local_conv(a.view(b, h, w, c).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).reshape(b, l, c)
        return y + self.mlp(y)


class Layer(nn.Module):
    """mmfd's ConvLayer (MBConv blocks) and BasicLayer (TinyViT blocks): the blocks, then an optional PatchMerging."""

    def __init__(self, blocks, downsample):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.downsample(x) if self.downsample is not None else x


class LayerNorm2d(nn.Module):
    def __init__(self, num_channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        d = x - u
        s = d.square().mean(1, keepdim=True)
        y = d / (s + self.eps).sqrt()
        return y * self.weight.reshape(-1, 1, 1) + self.bias.reshape(-1, 1, 1)


class TinyViT(nn.Module):
    """TinyViT-5M at 512 as mmfd's TINYVIT_5M with the config's merge strides [2, 2, 1]."""

    def __init__(self, img_size=IMG, num_classes=NUM_CLASSES, out_chans=256):
        super().__init__()
        embed_dims, depths, num_heads, window_sizes = [64, 128, 160, 320], [2, 2, 6, 2], [2, 4, 5, 10], [7, 7, 14, 7]
        strides = [2, 2, 1]
        self.register_buffer("norm_mean", torch.tensor(SAM_PIXEL_MEAN).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("norm_std", torch.tensor(SAM_PIXEL_STD).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("norm_pre_scale", torch.tensor([255.0]), persistent=False)
        self.patch_embed = PatchEmbed(3, embed_dims[0])
        self.resolutions = [img_size // 4]
        for s in strides:
            self.resolutions.append(self.resolutions[-1] // s)
        layers = []
        for i, dim in enumerate(embed_dims):
            r = self.resolutions[i]
            down = PatchMerging((r, r), dim, embed_dims[i + 1], strides[i]) if i < len(embed_dims) - 1 else None
            if i == 0:
                blocks = [MBConv(dim, dim, 4) for _ in range(depths[i])]
            else:
                blocks = [TinyViTBlock(dim, (r, r), num_heads[i], window_sizes[i], 4, 3) for _ in range(depths[i])]
            layers.append(Layer(blocks, down))
        self.layers = nn.ModuleList(layers)
        self.norm_head = nn.LayerNorm(embed_dims[-1])
        self.head = nn.Linear(embed_dims[-1], num_classes)
        self.neck = nn.Sequential(
            nn.Conv2d(embed_dims[-1], out_chans, 1, bias=False),
            LayerNorm2d(out_chans),
            nn.Conv2d(out_chans, out_chans, 3, padding=1, bias=False),
            LayerNorm2d(out_chans),
        )

    def forward(self, image):
        x = image.mul(self.norm_pre_scale).sub(self.norm_mean).div(self.norm_std + 1e-6)
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        b, _, c = x.shape
        r = self.resolutions[-1]
        return self.neck(x.view(b, r, r, c).permute(0, 3, 1, 2))


# ---- the semantic decoder (src/models/decoder) ----


class PositionEmbeddingRandom(nn.Module):
    def __init__(self, num_pos_feats):
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", torch.randn(2, num_pos_feats))

    def forward(self, size):
        h, w = size
        g = self.positional_encoding_gaussian_matrix
        y = torch.arange(0, h, 1, dtype=torch.float32).add(0.5).div(h)
        x = torch.arange(0, w, 1, dtype=torch.float32).add(0.5).div(w)
        yy, xx = torch.meshgrid([y, x], indexing="ij")
        c = torch.stack([xx, yy], -1).mul(2).sub(1).matmul(g).mul(2 * math.pi)
        return torch.cat([c.sin(), c.cos()], -1).permute(2, 0, 1)


class PromptEncoderIter(nn.Module):
    def __init__(self, embed_dim, image_embedding_size, num_class, mask_in_chans):
        super().__init__()
        self.image_embedding_size = image_embedding_size
        self.pe_layer = PositionEmbeddingRandom(embed_dim // 2)
        c4 = mask_in_chans // 4
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(num_class, c4, 2, stride=2),
            LayerNorm2d(c4),
            nn.GELU(),
            nn.Conv2d(c4, mask_in_chans, 2, stride=2),
            LayerNorm2d(mask_in_chans),
            nn.GELU(),
            nn.Conv2d(mask_in_chans, embed_dim, 1),
        )
        self.init_masks = nn.Embedding(1, num_class)
        self.cls_embeddings = nn.ModuleList([nn.Embedding(1, embed_dim) for _ in range(num_class)])

    def get_dense_pe(self):
        return self.pe_layer(self.image_embedding_size).unsqueeze(0)


class SamAttention(nn.Module):
    def __init__(self, embedding_dim, num_heads, downsample_rate=1):
        super().__init__()
        self.num_heads = num_heads
        self.internal_dim = embedding_dim // downsample_rate
        self.q_proj = nn.Linear(embedding_dim, self.internal_dim)
        self.k_proj = nn.Linear(embedding_dim, self.internal_dim)
        self.v_proj = nn.Linear(embedding_dim, self.internal_dim)
        self.out_proj = nn.Linear(self.internal_dim, embedding_dim)

    def heads(self, x):
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, -1).transpose(1, 2)

    def forward(self, q, k, v):
        b, n, _ = q.shape
        qh, kh, vh = self.heads(self.q_proj(q)), self.heads(self.k_proj(k)), self.heads(self.v_proj(v))
        attn = qh.matmul(kh.transpose(-2, -1)).div(math.sqrt(self.internal_dim / self.num_heads)).softmax(-1)
        return self.out_proj(attn.matmul(vh).transpose(1, 2).reshape(b, n, self.internal_dim))


class MLPBlock(nn.Module):
    def __init__(self, embedding_dim, mlp_dim):
        super().__init__()
        self.lin1 = nn.Linear(embedding_dim, mlp_dim)
        self.lin2 = nn.Linear(mlp_dim, embedding_dim)

    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))


class TwoWayAttentionBlock(nn.Module):
    def __init__(self, d, num_heads, mlp_dim, rate, skip_first_layer_pe):
        super().__init__()
        self.self_attn = SamAttention(d, num_heads)
        self.norm1 = nn.LayerNorm(d)
        self.cross_attn_token_to_image = SamAttention(d, num_heads, rate)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = MLPBlock(d, mlp_dim)
        self.norm3 = nn.LayerNorm(d)
        self.norm4 = nn.LayerNorm(d)
        self.cross_attn_image_to_token = SamAttention(d, num_heads, rate)
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_first_layer_pe:
            qs = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            qs = queries + self.self_attn(q, q, queries)
        qs = self.norm1(qs)
        kp = keys + key_pe
        qs = self.norm2(qs + self.cross_attn_token_to_image(qs + query_pe, kp, keys))
        qs = self.norm3(qs + self.mlp(qs))
        ks = self.norm4(keys + self.cross_attn_image_to_token(kp, qs + query_pe, qs))
        return qs, ks


class TwoWayTransformer(nn.Module):
    def __init__(self, depth, d, num_heads, mlp_dim, rate=2):
        super().__init__()
        self.layers = nn.ModuleList([TwoWayAttentionBlock(d, num_heads, mlp_dim, rate, i == 0) for i in range(depth)])
        self.final_attn_token_to_image = SamAttention(d, num_heads, rate)
        self.norm_final_attn = nn.LayerNorm(d)

    def forward(self, image_embedding, image_pe, point_embedding):
        keys = image_embedding.flatten(2).permute(0, 2, 1)
        key_pe = image_pe.flatten(2).permute(0, 2, 1)
        queries = point_embedding
        for layer in self.layers:
            queries, keys = layer(queries, keys, point_embedding, key_pe)
        attn = self.final_attn_token_to_image(queries + point_embedding, keys + key_pe, keys)
        return self.norm_final_attn(queries + attn), keys


class MLP(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, num_layers):
        super().__init__()
        dims = [input_dim] + [hidden_dim] * (num_layers - 1) + [output_dim]
        self.layers = nn.ModuleList([nn.Linear(dims[i], dims[i + 1]) for i in range(num_layers)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class MaskDecoderIterSimple(nn.Module):
    def __init__(self, d, transformer, num_mask_tokens):
        super().__init__()
        c1, c2 = d // 4, d // 8
        self.transformer = transformer
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(d, c1, 2, stride=2), LayerNorm2d(c1), nn.GELU(), nn.ConvTranspose2d(c1, c2, 2, stride=2), nn.GELU()
        )
        self.output_hypernetworks_mlps = nn.ModuleList([MLP(d, d, c2, 3) for _ in range(num_mask_tokens)])

    def forward(self, image_embeddings, image_pe, prompt_enc, num_iter):
        b = image_embeddings.size(0)
        tokens = torch.cat([e.weight for e in prompt_enc.cls_embeddings], 0).unsqueeze(0).expand(b, -1, -1)
        pos = image_pe.expand(b, -1, -1, -1)
        h, w = image_embeddings.shape[-2:]
        masks = prompt_enc.init_masks.weight.reshape(1, -1, 1, 1).expand(b, -1, 4 * h, 4 * w)
        out = []
        for _ in range(num_iter):
            masks = self.inner_loop(masks, tokens, image_embeddings, pos, prompt_enc)
            out.append(masks)
        return out

    def inner_loop(self, prev, tokens, feats, pos, prompt_enc):
        masks = prev.detach()
        src = feats + prompt_enc.mask_downscaling(masks)
        b, c, h, w = src.shape
        hs, keys = self.transformer(src, pos, tokens)
        upscaled = self.output_upscaling(keys.transpose(1, 2).reshape(b, c, h, w))
        hyper = [mlp(hs.select(1, i)) for i, mlp in enumerate(self.output_hypernetworks_mlps)]
        _, c2, hh, ww = upscaled.shape
        logits = torch.stack(hyper, 1).matmul(upscaled.view(b, c2, hh * ww)).view(b, -1, hh, ww)
        return logits + masks


class Student(nn.Module):
    """src/models/student.ts with the config mobilesam-simple-t1i1-iter5k.yaml (one refinement pass)."""

    def __init__(self, img_size=IMG, num_classes=NUM_CLASSES):
        super().__init__()
        self.img_size = img_size
        self.image_encoder = TinyViT(img_size, num_classes, 256)
        grid = self.image_encoder.resolutions[-1]
        self.prompt_encoder = PromptEncoderIter(256, (grid, grid), num_classes, 16)
        self.mask_decoder = MaskDecoderIterSimple(256, TwoWayTransformer(2, 256, 8, 2048, 2), num_classes)
        self.register_buffer("pixel_mean", torch.zeros(3).view(-1, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.ones(3).view(-1, 1, 1), persistent=False)

    def forward(self, image):
        y = image.sub(self.pixel_mean).div(self.pixel_std)
        h, w = y.shape[-2:]
        if h != self.img_size or w != self.img_size:
            y = F.pad(y, (0, self.img_size - w, 0, self.img_size - h))
        emb = self.image_encoder(y)
        low = self.mask_decoder(emb, self.prompt_encoder.get_dense_pe(), self.prompt_encoder, 1)
        return F.interpolate(low[-1], size=(self.img_size, self.img_size), mode="bilinear", align_corners=False)


# ---- the loss (src/train/losses.ts, only what segmentationLoss(masks, target, LOSS) computes) ----

CLASS_REDUCE = [0, 2, 3]


def segmentation_loss(logits, target):
    c = logits.size(1)
    p = logits.sigmoid()
    score = (p * target).sum(CLASS_REDUCE).mul(2).add(1).div((p + target).sum(CLASS_REDUCE).add(1)).clamp(1e-7)
    dice = score.neg().add(1).mul(target.sum(CLASS_REDUCE).gt(0))
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(CLASS_REDUCE)
    focal = torch.zeros(c).sum()  # all focal weights are 0: mmfd computes no focal term
    return (dice * torch.tensor(LOSS["dice"][:c])).sum() + (bce * torch.tensor(LOSS["bce"][:c])).sum() + focal


# ---- modes ----


def set_threads():
    env = os.environ.get("MMFD_NUM_THREADS", "")
    torch.set_num_threads(int(env) if env else len(os.sched_getaffinity(0)))


def build(state_dict_path=None):
    torch.manual_seed(0)
    net = Student()
    if state_dict_path:
        net.load_state_dict(torch.load(state_dict_path, weights_only=True), strict=True)
    return net


def clock():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter() * 1e3, (u.ru_utime + u.ru_stime) * 1e3, u.ru_minflt


def timed(fn, runs):
    """Wall ms, CPU ms and page faults of fn, each the least of `runs` after one untimed warm-up."""
    fn()
    best = [math.inf] * 3
    for _ in range(runs):
        a = clock()
        fn()
        b = clock()
        best = [min(best[i], b[i] - a[i]) for i in range(3)]
    return best


def train_setup(net):
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    image = torch.rand(1, 3, IMG, IMG)
    target = (torch.rand(1, NUM_CLASSES, IMG, IMG) > 0.5).float()
    return opt, image, target


def train_step(net, opt, image, target):
    loss = segmentation_loss(net(image), target)
    opt.zero_grad(set_to_none=True)  # mmfd's zero_grad default (PyTorch 2's; 1.13 defaults to zeroing)
    loss.backward()
    opt.step()


def mode_time(runs, state_dict_path):
    net = build(state_dict_path)
    opt, image, target = train_setup(net)
    result = {}
    wall, cpu, faults = timed(lambda: train_step(net, opt, image, target), runs)
    result.update(train_step_wall_ms=wall, train_step_cpu_ms=cpu, train_step_page_faults=faults)
    del opt
    net.eval()
    images = 4  # as bench/train/worker.ts: the same 4 images per measurement, the least of 2 for each batch size
    for batch in (1, 4):
        x = torch.rand(batch, 3, IMG, IMG)

        def forward():
            with torch.no_grad():
                for _ in range(images // batch):
                    net(x)

        wall, cpu, faults = timed(forward, 2)
        result[f"forward_b{batch}_wall_ms_per_image"] = wall / images
        result[f"forward_b{batch}_cpu_ms_per_image"] = cpu / images
        result[f"forward_b{batch}_page_faults_per_image"] = faults / images
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


PHASES = ["forward", "loss", "zero_grad", "backward", "optimizer_step", "release"]


def mode_profile(runs, state_dict_path):
    """As bench/train/breakdown.ts: a step's phases (least of `runs`), then one step under the autograd profiler."""
    net = build(state_dict_path)
    opt, image, target = train_setup(net)

    def step():
        out = {}
        last = clock()

        def mark(phase):
            nonlocal last
            now = clock()
            out[phase] = {"wall": now[0] - last[0], "cpu": now[1] - last[1]}
            last = now

        masks = net(image)
        mark("forward")
        loss = segmentation_loss(masks, target)
        mark("loss")
        opt.zero_grad(set_to_none=True)
        mark("zero_grad")
        loss.backward()
        mark("backward")
        opt.step()
        mark("optimizer_step")
        del masks, loss
        mark("release")
        return out

    step()
    best = {p: {"wall": math.inf, "cpu": math.inf} for p in PHASES}
    for _ in range(runs):
        s = step()
        for p in PHASES:
            best[p] = {k: min(best[p][k], s[p][k]) for k in ("wall", "cpu")}
    with torch.autograd.profiler.profile() as prof:
        step()
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    result = {
        "phases_ms": {p: {k: round(v) for k, v in best[p].items()} for p in PHASES},
        "profiler_top_self_ms": [
            {
                "name": e.key,
                "calls": e.count,
                "self_ms": round(e.self_cpu_time_total / 100) / 10,
                "total_ms": round(e.cpu_time_total / 100) / 10,
            }
            for e in rows[:25]
        ],
        "profiler_calls": sum(e.count for e in rows),
    }
    print(json.dumps(result))


def mode_parity(folder):
    """mmfd's outputs (bench/train/pytorch_parity.ts) against this port on the same weights and input."""
    net = build(os.path.join(folder, "student.pth"))
    io = torch.load(os.path.join(folder, "io.pth"), weights_only=True)

    def worst(got, ref):
        diff = (got - ref).abs()
        return {
            "max_abs_diff": diff.max().item(),
            "max_ref": ref.abs().max().item(),
            "worst_over_tolerance": (diff / (1e-4 * ref.abs().clamp(min=1))).max().item(),
        }

    net.eval()
    with torch.no_grad():
        eval_masks = net(io["image"])
    net.train()
    train_masks = net(io["image"])
    loss = segmentation_loss(train_masks, io["target"])
    loss.backward()
    grad_norms = torch.stack([p.grad.norm() if p.grad is not None else torch.zeros(()) for p in net.parameters()])
    loss_ref = io["loss"]
    result = {
        "grad_norms": worst(grad_norms, io["grad_norms"]),
        "eval_masks": worst(eval_masks, io["eval_masks"]),
        "train_masks": worst(train_masks.detach(), io["train_masks"]),
        "loss": {"pytorch": loss.item(), "mmfd": loss_ref.item(), **worst(loss.detach(), loss_ref)},
    }
    result["torch_version"] = torch.__version__
    result["ok"] = all(result[k]["worst_over_tolerance"] <= 1 for k in ("eval_masks", "train_masks", "loss", "grad_norms"))
    print(json.dumps(result))


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    set_threads()
    if mode == "time":
        mode_time(int(arg), sys.argv[3] if len(sys.argv) > 3 else None)
    elif mode == "profile":
        mode_profile(int(arg), sys.argv[3] if len(sys.argv) > 3 else None)
    elif mode == "parity":
        mode_parity(arg)
    else:
        sys.exit(f"pytorch_student.py: unknown mode '{mode}' (time, profile or parity)")


if __name__ == "__main__":
    main()
