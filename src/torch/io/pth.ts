// PyTorch's default checkpoint format (torch.save since 1.6): a stored zip with one top folder that
// holds data.pkl (a protocol-2 pickle of the saved object), data/<key> (one raw little-endian file per
// storage), byteorder, version, .format_version, .storage_alignment and .data/serialization_id.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { DTYPE_CODE, type DType, isFloating, TYPED_ARRAY } from '../dtype.js';
import { native } from '../native.js';
import { tidy } from '../scope.js';
import { op, Tensor } from '../tensor.js';
import { assertLittleEndianHost, FileSource, writeAtomic } from './files.js';
import {
  orderedDictGlobal,
  type PickleGlobal,
  type PickleValue,
  type PickleWritable,
  PyDict,
  PyGlobal,
  PyOrderedDict,
  PyPersistentId,
  PyReduce,
  PyTuple,
  pickle,
  unpickle,
} from './pickle.js';
import { ZipReader, ZipWriter } from './zip.js';

/** A value loaded from a .pth file: dict/OrderedDict -> Map (key order kept), list/tuple -> array,
 *  int -> number (bigint beyond 2^53), float -> number, str -> string, bool, None -> null, tensor -> Tensor. */
export type PthValue = null | boolean | number | bigint | string | Uint8Array | Tensor | PthValue[] | Map<PthKey, PthValue>;
export type PthKey = string | number | bigint | boolean | null;

/** The storage classes torch.save names in persistent ids, and their element types. */
export const STORAGE_CLASS_DTYPE: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const DTYPE_STORAGE_CLASS = Object.fromEntries(Object.entries(STORAGE_CLASS_DTYPE).map(([k, v]) => [v, k])) as Record<DType, string>;

interface StorageGlobal extends PickleGlobal {
  readonly storageDtype: DType;
}

/** What a persistent id ('storage', cls, key, location, numel) resolves to while loading. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly location: string,
  ) {}
}

// ---- loading -----------------------------------------------------------------------------------

/** Deeper nesting than any checkpoint has: refused before it can overflow the stack. */
const MAX_NESTING = 1000;

/** A dict key for messages (a hostile file may use a list or dict as a key: not spelled out). */
export function keyText(k: unknown): string {
  if (typeof k === 'bigint') return String(k);
  if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean') return JSON.stringify(k);
  return `<${Array.isArray(k) ? 'list' : typeof k}>`;
}

/** Every tensor in a loaded value, each once (shared and cyclic sub-values are visited once). */
export function tensorsIn(value: PthValue): Set<Tensor> {
  const found = new Set<Tensor>();
  const seen = new Set<object>();
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v instanceof Tensor) found.add(v);
    else if (v !== null && typeof v === 'object' && !seen.has(v)) {
      seen.add(v);
      if (Array.isArray(v)) todo.push(...v);
      else if (v instanceof Map) todo.push(...v.values());
    }
  }
  return found;
}

/** A tensor found while unpickling, made once all storage uses are known. */
class PendingTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    public requiresGrad: boolean,
  ) {}
}

/** Whether stride is the C-contiguous stride of size (dims of size 1 may have any stride). */
function sameStrides(size: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    const d = size[i] as number;
    if (d !== 1 && stride[i] !== expect) return false;
    expect *= d;
  }
  return true;
}

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));
}

/** Finds the folder all entries sit in (its name varies: the file stem, 'archive', ...). */
function archivePrefix(zip: ZipReader, file: string): string {
  const first = zip.entries[0]?.name;
  if (first === undefined) throw new Error(`${file}: not a PyTorch checkpoint: the zip archive is empty`);
  const slash = first.indexOf('/');
  if (slash > 0 && zip.has(`${first.slice(0, slash + 1)}data.pkl`)) return first.slice(0, slash + 1);
  const pkls = zip.entries.map((e) => e.name).filter((n) => /^([^/]+\/)?data\.pkl$/.test(n));
  if (pkls.length === 1) return (pkls[0] as string).slice(0, -'data.pkl'.length);
  if (zip.has('archive/data.pkl')) return 'archive/';
  const some = zip.entries
    .slice(0, 5)
    .map((e) => e.name)
    .join(', ');
  throw new Error(
    pkls.length === 0
      ? `${file}: not a PyTorch checkpoint: the zip has no <folder>/data.pkl (entries: ${some}${zip.entries.length > 5 ? ', ...' : ''})`
      : `${file}: ambiguous PyTorch checkpoint: several data.pkl entries (${pkls.join(', ')})`,
  );
}

function byteSwap(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/**
 * Reads a PyTorch zip checkpoint (what torch.save writes by default). Nothing in the pickle is executed:
 * only tensor-checkpoint classes are accepted (see pickle.ts). Tensors are rebuilt with their dtype,
 * shape, storage offset and strides, as contiguous CPU tensors of their own; a view whose elements repeat
 * (more elements than its storage) stays a view on a private copy of its storage.
 */
export function load_pth(path: string): PthValue {
  assertLittleEndianHost();
  sniffLegacy(path);
  const zip = ZipReader.open(path);
  try {
    const prefix = archivePrefix(zip, path);
    let bigEndian = false;
    if (zip.has(`${prefix}byteorder`)) {
      const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
      if (order !== 'little' && order !== 'big') throw new Error(`${path}: unknown byteorder '${order}'`);
      bigEndian = order === 'big';
    }
    const pkl = zip.read(`${prefix}data.pkl`);
    // Pass 1: unpickle, with tensors as placeholders (so we know how often each storage is used).
    const uses = new Map<string, number>();
    const rebuild = (args: PickleValue[], what: string): PendingTensor => {
      const [storage, offset, size, stride, requiresGrad] = args;
      if (!(storage instanceof StorageRef)) throw new Error(`${path}: ${what}: the first argument is not a storage`);
      if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new Error(`${path}: ${what}: bad storage offset`);
      if (!isIntList(size) || !isIntList(stride) || size.length !== stride.length || size.some((d) => d < 0) || stride.some((s) => s < 0)) {
        throw new Error(`${path}: ${what}: bad size/stride (${JSON.stringify(size)} / ${JSON.stringify(stride)})`);
      }
      uses.set(storage.key, (uses.get(storage.key) ?? 0) + 1);
      return new PendingTensor(storage, offset, size, stride, requiresGrad === true);
    };
    const tensorArgs = (args: PickleValue[], n: number, name: string): PickleValue[] => {
      if (args.length < n) throw new Error(`${path}: ${name} with ${args.length} arguments (expected at least ${n})`);
      return args;
    };
    const findGlobal = (module: string, name: string): PickleGlobal | undefined => {
      if (module === 'collections' && name === 'OrderedDict') return orderedDictGlobal();
      if (module === 'torch._utils') {
        if (name === '_rebuild_tensor_v2' || name === '_rebuild_tensor') {
          return { module, name, call: (a) => rebuild(tensorArgs(a, 4, name), name) };
        }
        if (name === '_rebuild_parameter' || name === '_rebuild_parameter_with_state') {
          return {
            module,
            name,
            call: (a) => {
              const [data, requiresGrad] = tensorArgs(a, 2, name);
              if (!(data instanceof PendingTensor)) throw new Error(`${path}: ${name}: the data is not a tensor`);
              if (requiresGrad === true) data.requiresGrad = true;
              return data;
            },
          };
        }
      }
      if (module === 'torch' && name in STORAGE_CLASS_DTYPE) {
        const g: StorageGlobal = { module, name, storageDtype: STORAGE_CLASS_DTYPE[name] as DType };
        return g;
      }
      return undefined;
    };
    const persistentLoad = (pid: PickleValue): PickleValue => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
        throw new Error(
          `${path}: unsupported persistent id ${JSON.stringify(Array.isArray(pid) ? pid[0] : typeof pid)} (expected a 'storage' tuple)`,
        );
      }
      const [, cls, key, location, numel] = pid;
      const dtype = (cls as Partial<StorageGlobal> | null)?.storageDtype;
      if (dtype === undefined) throw new Error(`${path}: storage '${String(key)}' has no known storage class`);
      if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0) {
        throw new Error(`${path}: malformed storage persistent id for '${String(key)}'`);
      }
      return new StorageRef(key, dtype, numel, String(location));
    };
    const raw = unpickle(pkl, { filename: path, findGlobal, persistentLoad });

    // Pass 2: read the storages and make the tensors.
    return tidy(() => {
      const storages = new Map<string, Tensor>();
      const storageTensor = (ref: StorageRef): Tensor => {
        let t = storages.get(ref.key);
        if (t === undefined) {
          const name = `${prefix}data/${ref.key}`;
          if (!zip.has(name)) throw new Error(`${path}: the checkpoint refers to storage '${ref.key}' but the zip has no entry '${name}'`);
          const elem = TYPED_ARRAY[ref.dtype].BYTES_PER_ELEMENT;
          let bytes = zip.read(name);
          if (bytes.length < ref.numel * elem) {
            throw new Error(`${path}: storage '${ref.key}' has ${bytes.length} bytes, fewer than ${ref.numel} ${ref.dtype} elements need`);
          }
          bytes = bytes.subarray(0, ref.numel * elem);
          if (bigEndian && elem > 1) {
            bytes = bytes.slice();
            byteSwap(bytes, elem);
          }
          t = new Tensor(native.fromBytes(bytes, [ref.numel], DTYPE_CODE[ref.dtype], 'cpu'));
          storages.set(ref.key, t);
        }
        return t;
      };
      const made = new Map<PendingTensor, Tensor>();
      const materialize = (p: PendingTensor, where: string): Tensor => {
        let out = made.get(p);
        if (out !== undefined) return out;
        const named = `${path}: tensor ${where}: size [${p.size.join(', ')}] stride [${p.stride.join(', ')}] offset ${p.offset}`;
        const numel = p.size.reduce((x, y) => x * y, 1);
        if (!Number.isSafeInteger(numel)) throw new Error(`${named} has more than 2^53 elements`);
        if (numel > 0) {
          let last = p.offset;
          for (let i = 0; i < p.size.length; i++) last += ((p.size[i] as number) - 1) * (p.stride[i] as number);
          if (last >= p.storage.numel) {
            throw new Error(`${named} reaches element ${last} of storage '${p.storage.key}' (${p.storage.numel} elements)`);
          }
        }
        const st = storageTensor(p.storage);
        const shared = uses.get(p.storage.key) !== 1;
        const standard = p.offset === 0 && numel === p.storage.numel && sameStrides(p.size, p.stride);
        if (standard && !shared) {
          // The tensor is its whole storage, used nowhere else: no copy needed.
          out = op('view', st, p.size);
        } else if (numel > p.storage.numel) {
          // Elements repeat (a zero stride, an expand): a copy would be larger than the file's data
          // (1 element seen as [1e6, 1000] is 4 GB), so the tensor stays a view, on a storage of its own.
          out = op('as_strided', shared ? st.clone() : st, p.size, p.stride, p.offset);
        } else {
          const view = op('as_strided', st, p.size, p.stride, p.offset);
          const contig = view.contiguous();
          out = contig.is_same(view) ? view.clone() : contig;
        }
        if (p.requiresGrad && isFloating(out.dtype)) out.requires_grad_(true);
        made.set(p, out);
        return out;
      };
      const seen = new Set<object>();
      const walk = (v: unknown, where: string, depth: number): PthValue => {
        if (v instanceof PendingTensor) return materialize(v, where);
        if (v === null || typeof v !== 'object' || seen.has(v)) return v as PthValue;
        if (depth > MAX_NESTING) throw new Error(`${path}: values nested more than ${MAX_NESTING} deep (at ${where.slice(0, 200)}...)`);
        seen.add(v);
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) v[i] = walk(v[i], `${where}[${i}]`, depth + 1);
          return v as PthValue[];
        }
        if (v instanceof Map) {
          for (const [k, x] of v) v.set(k, walk(x, `${where}[${keyText(k)}]`, depth + 1));
          return v as Map<PthKey, PthValue>;
        }
        return v as PthValue;
      };
      return walk(raw, 'value', 0);
    });
  } finally {
    zip.close();
  }
}

/** Clear errors for files that are not zip checkpoints but look like other torch formats. */
function sniffLegacy(path: string): void {
  const f = new FileSource(path);
  try {
    if (f.size === 0) throw new Error(`${path}: empty file (not a PyTorch checkpoint)`);
    const head = f.read(0, Math.min(f.size, 2), 'the file signature');
    if (head[0] === 0x80 && head.length > 1 && (head[1] as number) <= 5) {
      throw new Error(
        `${path}: this is a legacy (pre-1.6, non-zip) torch.save file, which is not supported; re-save it with a current PyTorch (torch.save(torch.load(f), f))`,
      );
    }
  } finally {
    f.close();
  }
}

// ---- saving ------------------------------------------------------------------------------------

/**
 * A tensor saved as a view on a shared storage: `storage` (its elements, flattened in C order, are the
 * storage) seen with the given size, stride and offset. Several views (and the storage tensor itself)
 * may share one storage in the file, as PyTorch does for views of one tensor.
 */
export class StorageView {
  constructor(
    readonly storage: Tensor,
    readonly storage_offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export type PthSaveValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Tensor
  | StorageView
  | readonly PthSaveValue[]
  | ReadonlyMap<string | number, PthSaveValue>
  | { readonly [key: string]: PthSaveValue };

function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= Math.max(shape[i] as number, 1);
  }
  return stride;
}

/**
 * Writes `value` in torch.save's default format (pickle protocol 2, Maps as OrderedDict, plain objects
 * as dict, arrays as list), so PyTorch's torch.load reads it. The same Tensor object appearing twice is
 * stored once; StorageView values share the storage of their `storage` tensor. The archive's top folder
 * is named after the file stem, and the file is written to a temporary name and then renamed.
 */
export function save_pth(path: string, value: PthSaveValue): void {
  assertLittleEndianHost();
  const storages = new Map<Tensor, { key: string; numel: number; dtype: DType }>();
  const storageOf = (t: Tensor): { key: string; numel: number; dtype: DType } => {
    let s = storages.get(t);
    if (s === undefined) {
      s = { key: String(storages.size), numel: t.numel(), dtype: t.dtype };
      storages.set(t, s);
    }
    return s;
  };
  const rebuildCall = (
    s: { key: string; numel: number; dtype: DType },
    offset: number,
    size: readonly number[],
    stride: readonly number[],
    requiresGrad: boolean,
  ): PyReduce => {
    const cls = DTYPE_STORAGE_CLASS[s.dtype];
    const pid = new PyPersistentId(new PyTuple(['storage', new PyGlobal('torch', cls), s.key, 'cpu', s.numel]));
    return new PyReduce(new PyGlobal('torch._utils', '_rebuild_tensor_v2'), [
      pid,
      offset,
      new PyTuple([...size]),
      new PyTuple([...stride]),
      requiresGrad,
      new PyOrderedDict([]),
    ]);
  };
  const active = new Set<object>();
  const convert = (v: PthSaveValue, where: string): PickleWritable => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
    if (typeof v === 'number') return v;
    if (typeof v !== 'object') throw new TypeError(`save_pth: ${where}: cannot save a ${typeof v}`);
    if (v instanceof Tensor) {
      const shape = v.shape;
      return rebuildCall(storageOf(v), 0, shape, contiguousStride(shape), v.requires_grad);
    }
    if (v instanceof StorageView) {
      const s = storageOf(v.storage);
      const { size, stride, storage_offset: offset } = v;
      if (!isIntList(size) || !isIntList(stride) || size.length !== stride.length || !Number.isInteger(offset) || offset < 0) {
        throw new RangeError(`save_pth: ${where}: invalid StorageView size/stride/offset`);
      }
      if (size.some((d) => d < 0) || stride.some((d) => d < 0)) throw new RangeError(`save_pth: ${where}: negative size or stride`);
      if (size.every((d) => d > 0)) {
        let last = offset;
        for (let i = 0; i < size.length; i++) last += ((size[i] as number) - 1) * (stride[i] as number);
        if (last >= s.numel) throw new RangeError(`save_pth: ${where}: the view reaches element ${last} of a storage of ${s.numel}`);
      }
      return rebuildCall(s, offset, size, stride, false);
    }
    if (active.has(v)) throw new TypeError(`save_pth: ${where}: the value contains a cycle`);
    active.add(v);
    try {
      if (Array.isArray(v)) return (v as readonly PthSaveValue[]).map((x, i) => convert(x, `${where}[${i}]`));
      if (v instanceof Map) {
        const entries: [PickleWritable, PickleWritable][] = [];
        for (const [k, x] of v as ReadonlyMap<string | number, PthSaveValue>) {
          if (typeof k !== 'string' && typeof k !== 'number')
            throw new TypeError(`save_pth: ${where}: Map keys must be strings or numbers`);
          entries.push([k, convert(x, `${where}.${k}`)]);
        }
        return new PyOrderedDict(entries);
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`save_pth: ${where}: cannot save a ${(v as object).constructor?.name ?? 'object'}`);
      }
      return new PyDict(Object.entries(v as Record<string, PthSaveValue>).map(([k, x]) => [k, convert(x, `${where}.${k}`)] as const));
    } finally {
      active.delete(v);
    }
  };
  const pkl = pickle(convert(value, 'value'));

  let stem = basename(path);
  const dot = stem.lastIndexOf('.');
  if (dot >= 0) stem = stem.slice(0, dot);
  if (stem === '' || stem.includes('\\')) stem = 'archive';
  const enc = new TextEncoder();
  const serialId = Array.from(randomBytes(40), (b) => String(b % 10)).join('');

  writeAtomic(path, (sink) => {
    const zip = new ZipWriter(sink, { alignment: 64 });
    zip.add(`${stem}/data.pkl`, pkl);
    zip.add(`${stem}/.format_version`, enc.encode('1'));
    zip.add(`${stem}/.storage_alignment`, enc.encode('64'));
    zip.add(`${stem}/byteorder`, enc.encode('little'));
    for (const [t, s] of storages) {
      const bytes = tidy(() => {
        const src = t.device === 'cpu' ? t : t.cpu();
        const arr = src.toTypedArray();
        return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      });
      zip.add(`${stem}/data/${s.key}`, bytes);
    }
    zip.add(`${stem}/version`, enc.encode('3\n'));
    zip.add(`${stem}/.data/serialization_id`, enc.encode(serialId));
    zip.finish();
  });
}
