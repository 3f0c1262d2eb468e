// Pretrained weights for MMFD's networks, with the reference's adaptation rules (spec §3.1, fixture
// ckpt_loading): pure functions from a checkpoint's state dict to the target model's keys and shapes,
// and file readers around them. Every function takes the target's state dict (or any key -> shape map),
// so it works for any model size; what it returns is meant for `module.load_state_dict(sd, false)` (or
// a strict load of the merged state dict). Entries copied as they are are the source's own tensors.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../torch/index.js';

type Tensor = torch.Tensor;
export type StateDict = Map<string, Tensor>;

/** What the adapters need of a model: key -> shape. A model's state_dict() is one. */
export type TargetShapes = ReadonlyMap<string, { readonly shape: readonly number[] }>;

export type AdaptAction = 'copied' | 'resized' | 'repeated';

export interface AdaptOptions {
  /** Names the checkpoint in error messages (the file path for the file loaders). */
  source?: string;
  /** Called once per produced tensor, e.g. to log the resizes. */
  log?: (key: string, action: AdaptAction, from: readonly number[], to: readonly number[]) => void;
}

// ---- helpers -----------------------------------------------------------------------------------

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function shapeError(source: string, key: string, from: readonly number[], to: readonly number[], why = ''): Error {
  return new Error(`${source}: shape mismatch for '${key}': the checkpoint has ${fmt(from)}, the model expects ${fmt(to)}${why}`);
}

function listed(keys: readonly string[]): string {
  const shown = keys.slice(0, 10).map((k) => `'${k}'`);
  return `${shown.join(', ')}${keys.length > 10 ? `, ... (${keys.length} in all)` : ''}`;
}

/** Throws unless `out` provides exactly the keys in `required` (those of `target` when omitted). */
function requireKeys(source: string, out: StateDict, target: TargetShapes, extra: readonly string[], required?: readonly string[]): void {
  const missing = (required ?? [...target.keys()]).filter((k) => !out.has(k));
  const problems: string[] = [];
  if (missing.length) problems.push(`the checkpoint lacks ${missing.length} key(s) the model needs: ${listed(missing)}`);
  if (extra.length) problems.push(`the checkpoint has ${extra.length} key(s) the model lacks: ${listed(extra)}`);
  if (problems.length) throw new Error(`${source}: ${problems.join('; ')}`);
}

/** The entries under `prefix`, with the prefix removed (e.g. a sub-module's part of a state dict). */
export function subStateDict<V>(sd: ReadonlyMap<string, V>, prefix: string): Map<string, V> {
  const out = new Map<string, V>();
  for (const [k, v] of sd) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

/** The same entries with `prefix` in front of every key. */
export function withPrefix<V>(sd: ReadonlyMap<string, V>, prefix: string): Map<string, V> {
  const out = new Map<string, V>();
  for (const [k, v] of sd) out.set(prefix + k, v);
  return out;
}

// ---- resizing (bilinear, align_corners false, no antialias, as F.interpolate) --------------------

/** A ViT position grid [1, H, W, C] resized to [1, h, w, C]. */
export function resizePosEmbed(pos: Tensor, size: readonly [number, number]): Tensor {
  return torch.tidy(() => {
    const nchw = pos.permute(0, 3, 1, 2);
    const r = torch.nn.functional.interpolate(nchw, { size: [size[0], size[1]], mode: 'bilinear', align_corners: false });
    return r.permute(0, 2, 3, 1).contiguous();
  });
}

/** A relative-position table [L, C] resized to [length, C] along its first axis (as the reference: a
 *  2-D bilinear resize of [1, 1, L, C] whose second axis keeps its size, i.e. linear along L). */
export function resizeRelPos(table: Tensor, length: number): Tensor {
  return torch.tidy(() => {
    const [L, C] = table.shape as [number, number];
    const r = torch.nn.functional.interpolate(table.reshape(1, 1, L, C), { size: [length, C], mode: 'bilinear', align_corners: false });
    return r.reshape(length, C);
  });
}

function squareSide(n: number): number | undefined {
  const g = Math.round(Math.sqrt(n));
  return g * g === n ? g : undefined;
}

/** A CLIP position table [1 + g·g, C] (class row first, then the g x g grid row-major) resized to
 *  [1 + s·s, C]: the grid is resized bilinearly and the class row put back in front. */
export function resizeClipPositions(table: Tensor, rows: number, source = 'resizeClipPositions'): Tensor {
  const [n, C] = table.shape as [number, number];
  const g = squareSide(n - 1);
  const s = squareSide(rows - 1);
  if (g === undefined || s === undefined) {
    throw new Error(`${source}: a position table needs 1 + a square number of rows; got ${n} -> ${rows}`);
  }
  return torch.tidy(() => {
    const cls = table.narrow(0, 0, 1);
    const grid = table.narrow(0, 1, g * g).reshape(1, g, g, C);
    const resized = resizePosEmbed(grid, [s, s]).reshape(s * s, C);
    return torch.cat([cls, resized], 0);
  });
}

// ---- adapters (pure functions on state dicts) --------------------------------------------------

/** The reference's rule for MedSAM's global-attention blocks (ViT-B's 2, 5, 8, 11), applied to the key. */
export const MEDSAM_GLOBAL_BLOCK_MARKERS = ['.2.', '.5.', '.8.', '.11.'] as const;

/**
 * MedSAM / SAM image encoder: every `image_encoder.<k>` of a SAM state dict becomes `<k>` of the encoder.
 * `pos_embed` is resized bilinearly to the model's grid; `rel_pos_h/w` of keys containing '.2.', '.5.',
 * '.8.' or '.11.' are resized along their length; everything else (windowed blocks' tables, neck, ...)
 * is copied. Strict: the encoder's keys and the checkpoint's image_encoder keys must match one to one.
 */
export function adaptMedsamEncoder(sam: ReadonlyMap<string, Tensor>, target: TargetShapes, o: AdaptOptions = {}): StateDict {
  const source = o.source ?? 'SAM checkpoint';
  const out: StateDict = new Map();
  const extra: string[] = [];
  const marker = 'image_encoder.';
  for (const [sk, v] of sam) {
    const at = sk.indexOf(marker);
    if (at < 0) continue;
    const key = sk.slice(at + marker.length);
    const t = target.get(key);
    if (t === undefined) {
      extra.push(sk);
      continue;
    }
    const from = v.shape;
    const to = t.shape;
    if (sameShape(from, to)) {
      out.set(key, v);
      o.log?.(key, 'copied', from, to);
    } else if (key === 'pos_embed' && from.length === 4 && to.length === 4 && from[3] === to[3] && from[0] === to[0]) {
      out.set(key, resizePosEmbed(v, [to[1] as number, to[2] as number]));
      o.log?.(key, 'resized', from, to);
    } else if (
      /rel_pos_[hw]$/.test(key) &&
      MEDSAM_GLOBAL_BLOCK_MARKERS.some((m) => sk.includes(m)) &&
      from.length === 2 &&
      to.length === 2 &&
      from[1] === to[1]
    ) {
      out.set(key, resizeRelPos(v, to[0] as number));
      o.log?.(key, 'resized', from, to);
    } else {
      const why = /rel_pos_[hw]$/.test(key)
        ? ` (only the tables of the global blocks, keys containing ${MEDSAM_GLOBAL_BLOCK_MARKERS.map((m) => `'${m}'`).join(', ')}, are resized)`
        : '';
      throw shapeError(source, sk, from, to, why);
    }
  }
  requireKeys(source, out, target, extra);
  return out;
}

const SAM_PROMPT_PARTS = ['pe_layer', 'mask_downscaling'];
const SAM_DECODER_PARTS = ['transformer', 'output_upscaling', 'output_hypernetworks_mlps'];

function samPromptDecoderKey(k: string): boolean {
  if (k.startsWith('prompt_encoder.')) return SAM_PROMPT_PARTS.some((p) => k.includes(p));
  if (k.startsWith('mask_decoder.')) return SAM_DECODER_PARTS.some((p) => k.includes(p));
  return false;
}

/**
 * SAM prompt encoder and mask decoder parts reused by MMFD's decoder, under their SAM keys
 * (`prompt_encoder.*`, `mask_decoder.*`, as in the teacher's and the student's state dicts):
 * prompt_encoder keys containing pe_layer or mask_downscaling, mask_decoder keys containing transformer,
 * output_upscaling or output_hypernetworks_mlps. `prompt_encoder.mask_downscaling.0.weight` [C, 1, k, k]
 * is repeated (not rescaled) along its input channels to the model's class count. Every selected
 * checkpoint key must exist in the model (SAM has 4 hypernetwork MLPs, so the model needs 4 classes),
 * and every model key those rules select must be in the checkpoint; the other model keys (init_masks,
 * cls_embeddings, ...) are not touched.
 */
export function adaptSamPromptDecoder(sam: ReadonlyMap<string, Tensor>, target: TargetShapes, o: AdaptOptions = {}): StateDict {
  const source = o.source ?? 'SAM checkpoint';
  const out: StateDict = new Map();
  const extra: string[] = [];
  for (const [key, v] of sam) {
    if (!samPromptDecoderKey(key)) continue;
    const t = target.get(key);
    if (t === undefined) {
      extra.push(key);
      continue;
    }
    const from = v.shape;
    const to = t.shape;
    if (sameShape(from, to)) {
      out.set(key, v);
      o.log?.(key, 'copied', from, to);
    } else if (
      key === 'prompt_encoder.mask_downscaling.0.weight' &&
      from.length === 4 &&
      to.length === 4 &&
      from[0] === to[0] &&
      from[2] === to[2] &&
      from[3] === to[3] &&
      (to[1] as number) % (from[1] as number) === 0
    ) {
      out.set(key, v.repeat(1, (to[1] as number) / (from[1] as number), 1, 1));
      o.log?.(key, 'repeated', from, to);
    } else {
      throw shapeError(source, key, from, to);
    }
  }
  const required = [...target.keys()].filter(samPromptDecoderKey);
  requireKeys(source, out, target, extra, required);
  return out;
}

/**
 * PLIP (CLIP) vision tower: `vision_model.<k>` -> `<k>` without `position_ids`. The position table
 * [1 + g², C] is resized to the model's [1 + s², C] (grid bilinear, class row kept in front). Strict.
 */
export function adaptPlipVision(clip: ReadonlyMap<string, Tensor>, target: TargetShapes, o: AdaptOptions = {}): StateDict {
  const source = o.source ?? 'CLIP checkpoint';
  const out: StateDict = new Map();
  const extra: string[] = [];
  const prefix = 'vision_model.';
  for (const [sk, v] of clip) {
    if (!sk.startsWith(prefix) || sk.endsWith('position_ids')) continue;
    const key = sk.slice(prefix.length);
    const t = target.get(key);
    if (t === undefined) {
      extra.push(sk);
      continue;
    }
    const from = v.shape;
    const to = t.shape;
    if (sameShape(from, to)) {
      out.set(key, v);
      o.log?.(key, 'copied', from, to);
    } else if (
      key === 'embeddings.position_embedding.weight' &&
      from.length === 2 &&
      to.length === 2 &&
      from[1] === to[1] &&
      squareSide((from[0] as number) - 1) !== undefined &&
      squareSide((to[0] as number) - 1) !== undefined
    ) {
      out.set(key, resizeClipPositions(v, to[0] as number, source));
      o.log?.(key, 'resized', from, to);
    } else {
      throw shapeError(source, sk, from, to);
    }
  }
  requireKeys(source, out, target, extra);
  return out;
}

/** PiDiNet: the `module.` prefix removed, keys containing `classifier` or `conv_reduces` (the edge
 *  heads MMFD drops) left out, everything else copied. Strict. */
export function adaptPidinet(sd: ReadonlyMap<string, Tensor>, target: TargetShapes, o: AdaptOptions = {}): StateDict {
  const source = o.source ?? 'PiDiNet checkpoint';
  const out: StateDict = new Map();
  const extra: string[] = [];
  for (const [sk, v] of sd) {
    const key = sk.startsWith('module.') ? sk.slice('module.'.length) : sk;
    if (key.includes('classifier') || key.includes('conv_reduces')) continue;
    copyInto(source, out, extra, target, sk, key, v, o);
  }
  requireKeys(source, out, target, extra);
  return out;
}

function copyInto(
  source: string,
  out: StateDict,
  extra: string[],
  target: TargetShapes,
  sk: string,
  key: string,
  v: Tensor,
  o: AdaptOptions,
): void {
  const t = target.get(key);
  if (t === undefined) {
    extra.push(sk);
    return;
  }
  if (!sameShape(v.shape, t.shape)) throw shapeError(source, sk, v.shape, t.shape);
  if (out.has(key)) throw new Error(`${source}: two checkpoint keys give the model's '${key}'`);
  out.set(key, v);
  o.log?.(key, 'copied', v.shape, t.shape);
}

/** TinyViT's classification head: unused by the student, sized for ImageNet's 1000 classes in MobileSAM. */
const TINYVIT_HEAD = /^(norm_head|head)\./;

/**
 * MobileSAM's TinyViT: `image_encoder.<k>` -> `<k>` of the student's image encoder, copied. The unused
 * classification head (`head.*`, `norm_head.*`) is taken only where the model has it with the same
 * shape (MobileSAM's has 1000 classes); `attention_bias_idxs` (a constant) only where the model lists it.
 * Strict otherwise.
 */
export function adaptMobileSamEncoder(sd: ReadonlyMap<string, Tensor>, target: TargetShapes, o: AdaptOptions = {}): StateDict {
  const source = o.source ?? 'MobileSAM checkpoint';
  const out: StateDict = new Map();
  const extra: string[] = [];
  const prefix = 'image_encoder.';
  for (const [sk, v] of sd) {
    if (!sk.startsWith(prefix)) continue;
    const key = sk.slice(prefix.length);
    const t = target.get(key);
    const optional = TINYVIT_HEAD.test(key) || key.endsWith('attention_bias_idxs');
    if (optional && (t === undefined || !sameShape(t.shape, v.shape))) continue;
    copyInto(source, out, extra, target, sk, key, v, o);
  }
  const required = [...target.keys()].filter((k) => !TINYVIT_HEAD.test(k));
  requireKeys(source, out, target, extra, required);
  return out;
}

/** The MMFD student's own checkpoint: its full state dict (a `module.` prefix on every key is removed). Strict. */
export function adaptStudent(sd: ReadonlyMap<string, Tensor>, target: TargetShapes, o: AdaptOptions = {}): StateDict {
  const source = o.source ?? 'student checkpoint';
  const keys = [...sd.keys()];
  const strip = keys.length > 0 && keys.every((k) => k.startsWith('module.'));
  const out: StateDict = new Map();
  const extra: string[] = [];
  for (const [sk, v] of sd) copyInto(source, out, extra, target, sk, strip ? sk.slice('module.'.length) : sk, v, o);
  requireKeys(source, out, target, extra);
  return out;
}

// ---- file readers ------------------------------------------------------------------------------

function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${path}: ${what} not found (no such file)`);
  if (!statSync(path).isFile()) throw new Error(`${path}: ${what} is not a file`);
}

/** Reads a state dict from a .pth/.pt/.bin or .safetensors file (wrappers such as {'state_dict'} or
 *  {'net'} unwrapped), runs `adapt`, and frees every tensor of the file the result does not use. */
function loadAdapted(
  path: string,
  what: string,
  target: TargetShapes,
  adapt: (sd: ReadonlyMap<string, Tensor>, target: TargetShapes, o: AdaptOptions) => StateDict,
  o: Omit<AdaptOptions, 'source'>,
): StateDict {
  requireFile(path, what);
  const sd = torch.io.load_state_dict_file(path);
  let out: StateDict | undefined;
  try {
    // tidy: tensors made by a failed adaptation are freed with it.
    out = torch.tidy(() => adapt(sd, target, { ...o, source: path }));
    return out;
  } finally {
    const used = new Set(out?.values() ?? []);
    for (const t of sd.values()) if (!used.has(t)) t.dispose();
  }
}

/** MedSAM's image encoder from a SAM-layout file (e.g. medsam_vit_b.pth); see adaptMedsamEncoder. */
export function loadMedsamEncoder(path: string, target: TargetShapes, o: Omit<AdaptOptions, 'source'> = {}): StateDict {
  return loadAdapted(path, 'MedSAM checkpoint', target, adaptMedsamEncoder, o);
}

/** The prompt-encoder / mask-decoder parts of a SAM-layout file; see adaptSamPromptDecoder. */
export function loadSamPromptDecoder(path: string, target: TargetShapes, o: Omit<AdaptOptions, 'source'> = {}): StateDict {
  return loadAdapted(path, 'SAM checkpoint', target, adaptSamPromptDecoder, o);
}

/** PiDiNet from its training checkpoint ({'epoch', 'state_dict'} with `module.` keys); see adaptPidinet. */
export function loadPidinet(path: string, target: TargetShapes, o: Omit<AdaptOptions, 'source'> = {}): StateDict {
  return loadAdapted(path, 'PiDiNet checkpoint', target, adaptPidinet, o);
}

/** TinyViT from MobileSAM's mobile_sam.pt; see adaptMobileSamEncoder. */
export function loadMobileSamEncoder(path: string, target: TargetShapes, o: Omit<AdaptOptions, 'source'> = {}): StateDict {
  return loadAdapted(path, 'MobileSAM checkpoint', target, adaptMobileSamEncoder, o);
}

/** The MMFD student from its checkpoint (a raw state dict or {'net': state_dict, ...}); see adaptStudent. */
export function loadStudentCheckpoint(path: string, target: TargetShapes, o: Omit<AdaptOptions, 'source'> = {}): StateDict {
  return loadAdapted(path, 'student checkpoint', target, adaptStudent, o);
}

/** The files of a Hugging Face CLIP folder: config.json and model.safetensors (preferred) or pytorch_model.bin. */
export function hfClipFiles(dir: string): { config: string; weights: string } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: CLIP model folder not found (no such directory)`);
  const config = join(dir, 'config.json');
  requireFile(config, 'CLIP config');
  const candidates = [join(dir, 'model.safetensors'), join(dir, 'pytorch_model.bin')];
  const weights = candidates.find((p) => existsSync(p));
  if (weights === undefined) throw new Error(`${dir}: CLIP weights not found (neither ${candidates.join(' nor ')} exists)`);
  return { config, weights };
}

/**
 * PLIP's vision tower from a Hugging Face CLIP folder (config.json + model.safetensors or
 * pytorch_model.bin) or from a weights file itself; see adaptPlipVision.
 */
export function loadPlipVision(pathOrDir: string, target: TargetShapes, o: Omit<AdaptOptions, 'source'> = {}): StateDict {
  const isDir = existsSync(pathOrDir) && statSync(pathOrDir).isDirectory();
  const file = isDir ? hfClipFiles(pathOrDir).weights : pathOrDir;
  return loadAdapted(file, 'CLIP checkpoint', target, adaptPlipVision, o);
}
