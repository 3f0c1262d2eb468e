// State-dict files of any supported format, and mmfd's own training checkpoints:
// <stem>.safetensors (weights, plus optimizer tensors under `optimizer.` keys) and <stem>.json
// (metadata, written last: a checkpoint without its JSON, or whose JSON names another save, is incomplete).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispose } from '../scope.js';
import { Tensor } from '../tensor.js';
import { FileSource, writeAtomic } from './files.js';
import { keyText, load_pth, type PthValue, tensorsIn } from './pth.js';
import { load_safetensors, save_safetensors } from './safetensors.js';

// ---- state-dict files --------------------------------------------------------------------------

/** Keys under which training scripts commonly nest the state dict, tried in this order. */
export const STATE_DICT_WRAPPER_KEYS = ['state_dict', 'net', 'model', 'model_state_dict', 'module'] as const;

export interface LoadStateDictFileOptions {
  /** Remove this prefix from the keys that start with it (e.g. 'module.' from DataParallel checkpoints). */
  strip_prefix?: string;
}

function asStateDict(v: PthValue): Map<string, Tensor> | undefined {
  if (!(v instanceof Map)) return undefined;
  for (const [k, x] of v) if (typeof k !== 'string' || !(x instanceof Tensor)) return undefined;
  return v as Map<string, Tensor>;
}

function unwrapStateDict(v: PthValue, depth: number): Map<string, Tensor> | undefined {
  const sd = asStateDict(v);
  if (sd !== undefined) return sd;
  if (!(v instanceof Map) || depth >= 3) return undefined;
  for (const key of STATE_DICT_WRAPPER_KEYS) {
    if (!v.has(key)) continue;
    const inner = unwrapStateDict(v.get(key) as PthValue, depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function describe(v: PthValue): string {
  if (v instanceof Map) {
    const keys = [...v.keys()].slice(0, 8).map(keyText);
    return `a dict with keys [${keys.join(', ')}${v.size > 8 ? ', ...' : ''}]`;
  }
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Tensor) return 'a single tensor';
  return typeof v;
}

function formatOf(path: string): 'pth' | 'safetensors' {
  const lower = path.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (/\.(pth|pt|bin|ckpt|tar)$/.test(lower)) return 'pth';
  // Unknown extension: look at the first bytes (zip signature for torch.save files).
  const f = new FileSource(path);
  try {
    const head = f.read(0, Math.min(4, f.size), 'the file signature');
    if (head[0] === 0x50 && head[1] === 0x4b) return 'pth';
    if (f.size >= 9) {
      const next = f.read(8, 1, 'the safetensors header')[0];
      if (next === 0x7b) return 'safetensors'; // '{' right after the 8-byte length
    }
  } finally {
    f.close();
  }
  throw new Error(`${path}: unknown checkpoint format (expected .pth / .pt / .bin / .ckpt (torch.save zip) or .safetensors)`);
}

/**
 * Reads a state dict (name -> tensor, in file order) from a .pth/.pt/.bin torch.save file or a
 * .safetensors file, unwrapping the usual wrappers ({'state_dict': sd}, {'net': sd}, {'model': sd}, ...).
 * Tensors outside the returned state dict (e.g. optimizer state in a training checkpoint) are freed.
 */
export function load_state_dict_file(path: string, options: LoadStateDictFileOptions = {}): Map<string, Tensor> {
  let sd: Map<string, Tensor>;
  if (formatOf(path) === 'safetensors') {
    sd = load_safetensors(path).tensors;
  } else {
    const value = load_pth(path);
    const found = unwrapStateDict(value, 0);
    if (found === undefined) {
      for (const t of tensorsIn(value)) t.dispose();
      throw new Error(`${path}: no state dict found: the file holds ${describe(value)}`);
    }
    const keep = new Set<Tensor>(found.values());
    for (const t of tensorsIn(value)) if (!keep.has(t)) t.dispose();
    sd = found;
  }
  const prefix = options.strip_prefix;
  if (prefix === undefined || prefix === '') return sd;
  const out = new Map<string, Tensor>();
  for (const [k, t] of sd) {
    const nk = k.startsWith(prefix) ? k.slice(prefix.length) : k;
    if (out.has(nk)) throw new Error(`${path}: stripping '${prefix}' makes the key '${nk}' appear twice`);
    out.set(nk, t);
  }
  return out;
}

// ---- mmfd checkpoints --------------------------------------------------------------------------

export const CHECKPOINT_FORMAT = 'mmfd-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;
const OPTIMIZER_PREFIX = 'optimizer.';

export interface CheckpointOptimizer {
  /** The optimizer's tensors (e.g. 'state.0.exp_avg'), stored under `optimizer.<key>` in the safetensors. */
  state: Map<string, Tensor>;
  /** Everything else (hyper-parameters, step counts, ...): any JSON value. */
  meta: unknown;
}

export interface Checkpoint {
  state_dict: Map<string, Tensor>;
  optimizer?: CheckpointOptimizer;
  /** JSON-able information: config, step, epoch, metrics, ... */
  meta: Record<string, unknown>;
}

interface CheckpointJson {
  format: string;
  format_version: number;
  mmfd_version: string;
  checkpoint_id: string;
  created: string;
  files: string[];
  weights: { file: string; bytes: number; state_dict_keys: string[]; optimizer_keys: string[] };
  meta: Record<string, unknown>;
  optimizer: { meta: unknown } | null;
}

let versionCache: string | undefined;
/** The version in mmfd's package.json. */
export function mmfd_version(): string {
  if (versionCache !== undefined) return versionCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const v = (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: unknown }).version;
        versionCache = typeof v === 'string' ? v : 'unknown';
      } catch {
        versionCache = 'unknown';
      }
      return versionCache;
    }
    const up = dirname(dir);
    if (up === dir) {
      versionCache = 'unknown';
      return versionCache;
    }
    dir = up;
  }
}

/** Throws unless v survives JSON.stringify / JSON.parse unchanged (finite numbers, plain objects, ...). */
function checkJsonable(v: unknown, where: string, seen: Set<object> = new Set()): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`save_checkpoint: ${where} is ${v}, which JSON cannot hold`);
    return;
  }
  if (typeof v !== 'object') throw new TypeError(`save_checkpoint: ${where} is a ${typeof v}, which JSON cannot hold`);
  if (seen.has(v)) throw new TypeError(`save_checkpoint: ${where} contains a cycle`);
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkJsonable(v[i], `${where}[${i}]`, seen);
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(
        `save_checkpoint: ${where} is a ${(v as object).constructor?.name ?? 'object'}, which JSON cannot hold (use plain objects)`,
      );
    }
    for (const [k, x] of Object.entries(v)) if (x !== undefined) checkJsonable(x, `${where}.${k}`, seen);
  }
  seen.delete(v);
}

/** `stem`, without a trailing .json / .safetensors. */
function stemOf(path: string): string {
  return path.replace(/\.(json|safetensors)$/, '');
}

/**
 * Saves an mmfd checkpoint: `<stem>.safetensors` (the state dict, then the optimizer tensors under
 * `optimizer.<key>`) and `<stem>.json` (meta, optimizer meta, mmfd version, file list). Both are written
 * atomically and the JSON last, so a crash never leaves something load_checkpoint takes as complete.
 */
export function save_checkpoint(pathStem: string, checkpoint: Checkpoint): void {
  const stem = stemOf(pathStem);
  const { state_dict: sd, optimizer, meta } = checkpoint;
  if (!(sd instanceof Map)) throw new TypeError('save_checkpoint: state_dict must be a Map<string, Tensor>');
  checkJsonable(meta ?? {}, 'meta');
  if (optimizer !== undefined) {
    if (!(optimizer.state instanceof Map)) throw new TypeError('save_checkpoint: optimizer.state must be a Map<string, Tensor>');
    checkJsonable(optimizer.meta ?? null, 'optimizer.meta');
  }
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of sd) tensors.set(k, t);
  const optimizerKeys: string[] = [];
  for (const [k, t] of optimizer?.state ?? []) {
    const key = `${OPTIMIZER_PREFIX}${k}`;
    if (tensors.has(key)) throw new Error(`save_checkpoint: the optimizer key '${k}' collides with the model key '${key}'`);
    tensors.set(key, t);
    optimizerKeys.push(k);
  }
  const id = randomBytes(16).toString('hex');
  const stPath = `${stem}.safetensors`;
  const jsonPath = `${stem}.json`;
  save_safetensors(stPath, tensors, { format: CHECKPOINT_FORMAT, checkpoint_id: id, mmfd_version: mmfd_version() });
  const doc: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_FORMAT_VERSION,
    mmfd_version: mmfd_version(),
    checkpoint_id: id,
    created: new Date().toISOString(),
    files: [basename(stPath)],
    weights: { file: basename(stPath), bytes: statSync(stPath).size, state_dict_keys: [...sd.keys()], optimizer_keys: optimizerKeys },
    meta: meta ?? {},
    optimizer: optimizer === undefined ? null : { meta: optimizer.meta ?? null },
  };
  const text = new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
  writeAtomic(jsonPath, (sink) => sink.write(text));
}

/** Reads a checkpoint written by save_checkpoint (the stem may carry .json or .safetensors). */
export function load_checkpoint(pathStem: string): Checkpoint {
  const stem = stemOf(pathStem);
  const stPath = `${stem}.safetensors`;
  const jsonPath = `${stem}.json`;
  if (!existsSync(jsonPath)) {
    if (existsSync(stPath)) {
      throw new Error(`${jsonPath}: missing: ${stPath} exists without its JSON, so the checkpoint is incomplete (the save did not finish)`);
    }
    throw new Error(`${stem}: no checkpoint here (neither ${jsonPath} nor ${stPath} exists)`);
  }
  let doc: CheckpointJson;
  try {
    doc = JSON.parse(readFileSync(jsonPath, 'utf8')) as CheckpointJson;
  } catch (err) {
    throw new Error(`${jsonPath}: not a readable checkpoint description: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || doc.format !== CHECKPOINT_FORMAT)
    throw new Error(`${jsonPath}: not an mmfd checkpoint (format is not '${CHECKPOINT_FORMAT}')`);
  if (typeof doc.format_version !== 'number' || doc.format_version > CHECKPOINT_FORMAT_VERSION) {
    throw new Error(
      `${jsonPath}: checkpoint format version ${String(doc.format_version)} is newer than this mmfd reads (${CHECKPOINT_FORMAT_VERSION})`,
    );
  }
  const w = doc.weights;
  if (w === null || typeof w !== 'object' || !Array.isArray(w.state_dict_keys) || !Array.isArray(w.optimizer_keys)) {
    throw new Error(`${jsonPath}: malformed checkpoint description (weights)`);
  }
  const weightsPath = join(dirname(jsonPath), typeof w.file === 'string' ? w.file : basename(stPath));
  if (!existsSync(weightsPath)) throw new Error(`${weightsPath}: missing: ${jsonPath} refers to it, so the checkpoint is incomplete`);
  const size = statSync(weightsPath).size;
  if (typeof w.bytes === 'number' && w.bytes !== size) {
    throw new Error(`${jsonPath} and ${weightsPath} disagree: the JSON records ${w.bytes} bytes of weights, the file has ${size}`);
  }
  const { tensors, metadata } = load_safetensors(weightsPath);
  try {
    if (metadata.checkpoint_id !== doc.checkpoint_id) {
      throw new Error(
        `${jsonPath} and ${weightsPath} disagree: they come from different saves (checkpoint ids ${String(doc.checkpoint_id)} / ${String(metadata.checkpoint_id)})`,
      );
    }
    const state_dict = new Map<string, Tensor>();
    for (const k of w.state_dict_keys) {
      const t = tensors.get(k);
      if (t === undefined) throw new Error(`${jsonPath} and ${weightsPath} disagree: '${k}' is listed but missing from the weights`);
      state_dict.set(k, t);
    }
    const optState = new Map<string, Tensor>();
    for (const k of w.optimizer_keys) {
      const t = tensors.get(`${OPTIMIZER_PREFIX}${k}`);
      if (t === undefined)
        throw new Error(`${jsonPath} and ${weightsPath} disagree: optimizer tensor '${k}' is listed but missing from the weights`);
      optState.set(k, t);
    }
    if (state_dict.size + optState.size !== tensors.size) {
      const listed = new Set([...w.state_dict_keys, ...w.optimizer_keys.map((k) => `${OPTIMIZER_PREFIX}${k}`)]);
      const extra = [...tensors.keys()].filter((k) => !listed.has(k));
      throw new Error(
        `${jsonPath} and ${weightsPath} disagree: the weights hold tensors the JSON does not list (${extra.slice(0, 5).join(', ')})`,
      );
    }
    const out: Checkpoint = { state_dict, meta: doc.meta ?? {} };
    if (doc.optimizer !== null && doc.optimizer !== undefined) out.optimizer = { state: optState, meta: doc.optimizer.meta };
    else if (optState.size > 0) throw new Error(`${jsonPath}: optimizer tensors are listed but the optimizer section is missing`);
    return out;
  } catch (err) {
    dispose(tensors);
    throw err;
  }
}
