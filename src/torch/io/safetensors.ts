// safetensors: [u64 LE header length N][N bytes of JSON, space-padded][raw little-endian C-order data].
// The header maps names to {dtype, shape, data_offsets: [begin, end)} relative to the data section;
// `__metadata__` holds strings only (we keep the tensor order in its `key_order`, a JSON list).
import { DTYPE_CODE, type DType, TYPED_ARRAY } from '../dtype.js';
import { native } from '../native.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { assertLittleEndianHost, FileSource, writeAtomic } from './files.js';

/** safetensors dtype names and the engine's dtypes. */
export const SAFETENSORS_DTYPE: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const DTYPE_SAFETENSORS = Object.fromEntries(Object.entries(SAFETENSORS_DTYPE).map(([k, v]) => [v, k])) as Record<DType, string>;

/** The largest header accepted (as the reference implementation: 100 MB). */
const MAX_HEADER = 100_000_000;

export interface SafetensorsFile {
  /** Ordered by `__metadata__.key_order` when present, else by data offset. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` strings (including `key_order` when the file has it). */
  metadata: Record<string, string>;
}

interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and validates a header; `dataLength` is the size of the data section. */
function parseHeader(file: string, json: string, dataLength: number): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(json);
  } catch (err) {
    throw new Error(`${file}: invalid safetensors header (not JSON: ${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new Error(`${file}: invalid safetensors header (not an object)`);
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: __metadata__ is not an object`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`${file}: __metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object') throw new Error(`${file}: tensor '${name}': header entry is not an object`);
    const dtype = typeof e.dtype === 'string' ? SAFETENSORS_DTYPE[e.dtype] : undefined;
    if (dtype === undefined) {
      throw new Error(
        `${file}: tensor '${name}': unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(SAFETENSORS_DTYPE).join(' ')})`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${file}: tensor '${name}': invalid shape ${JSON.stringify(shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${file}: tensor '${name}': invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end < begin) throw new Error(`${file}: tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const bytes = numel * TYPED_ARRAY[dtype].BYTES_PER_ELEMENT;
    if (end - begin !== bytes) {
      throw new Error(
        `${file}: tensor '${name}': ${e.dtype} [${(shape as number[]).join(', ')}] needs ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    if (end > dataLength) {
      throw new Error(
        `${file}: truncated or corrupt safetensors file: tensor '${name}' ends at data byte ${end} but the data section has ${dataLength} bytes`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < byOffset.length; i++) {
    const a = byOffset[i - 1] as HeaderEntry;
    const b = byOffset[i] as HeaderEntry;
    if (b.begin < a.end) throw new Error(`${file}: tensors '${a.name}' and '${b.name}' overlap in the data section`);
  }
  return { entries: byOffset, metadata };
}

function orderEntries(file: string, entries: HeaderEntry[], metadata: Record<string, string>): HeaderEntry[] {
  const raw = metadata.key_order;
  if (raw === undefined) return entries;
  let order: unknown;
  try {
    order = JSON.parse(raw);
  } catch {
    throw new Error(`${file}: __metadata__.key_order is not a JSON list`);
  }
  if (!Array.isArray(order) || !order.every((k) => typeof k === 'string'))
    throw new Error(`${file}: __metadata__.key_order is not a list of names`);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const taken = new Set<string>();
  const out: HeaderEntry[] = [];
  for (const k of order as string[]) {
    const e = byName.get(k);
    if (e === undefined) throw new Error(`${file}: __metadata__.key_order names '${k}', which is not a tensor in the file`);
    if (taken.has(k)) throw new Error(`${file}: __metadata__.key_order names '${k}' twice`);
    taken.add(k);
    out.push(e);
  }
  // Tensors the list does not name follow in data order.
  for (const e of entries) if (!taken.has(e.name)) out.push(e);
  return out;
}

/** Reads a safetensors file into CPU tensors. The header is validated before any data is read. */
export function load_safetensors(path: string): SafetensorsFile {
  assertLittleEndianHost();
  const src = new FileSource(path);
  try {
    if (src.size < 8)
      throw new Error(`${path}: not a safetensors file or truncated (${src.size} bytes, shorter than the 8-byte header length)`);
    const n = new DataView(src.read(0, 8).buffer).getBigUint64(0, true);
    if (n > BigInt(MAX_HEADER)) throw new Error(`${path}: not a safetensors file (header length ${n} is implausible)`);
    const headerLen = Number(n);
    if (8 + headerLen > src.size) {
      throw new Error(
        `${path}: truncated or not a safetensors file: the header needs ${headerLen} bytes but the file has ${src.size - 8} after the length`,
      );
    }
    let json: string;
    try {
      json = new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, headerLen, 'the header'));
    } catch {
      throw new Error(`${path}: invalid safetensors header (not UTF-8)`);
    }
    const dataStart = 8 + headerLen;
    const { entries, metadata } = parseHeader(path, json, src.size - dataStart);
    const ordered = orderEntries(path, entries, metadata);
    const tensors = tidy(() => {
      const out = new Map<string, Tensor>();
      for (const e of ordered) {
        const bytes = src.read(dataStart + e.begin, e.end - e.begin, `tensor '${e.name}'`);
        out.set(e.name, new Tensor(native.fromBytes(bytes, e.shape, DTYPE_CODE[e.dtype], 'cpu')));
      }
      return out;
    });
    return { tensors, metadata };
  } finally {
    src.close();
  }
}

/**
 * Writes tensors (any device, any layout: they are written C-contiguous) to a safetensors file, in the
 * Map's order, recording that order in `__metadata__.key_order`. The header is space-padded to a multiple
 * of 8; the file is written to a temporary name and renamed, so `path` is never half-written.
 */
export function save_safetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata: Record<string, string> = {},
): void {
  assertLittleEndianHost();
  const items: [string, Tensor][] = tensors instanceof Map ? [...(tensors as ReadonlyMap<string, Tensor>)] : Object.entries(tensors);
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new TypeError(`save_safetensors: ${path}: metadata '${k}' must be a string`);
    meta[k] = v;
  }
  meta.key_order = JSON.stringify(items.map(([k]) => k));
  const header: Record<string, unknown> = { __metadata__: meta };
  let offset = 0;
  for (const [name, t] of items) {
    if (name === '__metadata__') throw new Error(`save_safetensors: ${path}: '__metadata__' cannot be a tensor name`);
    if (!(t instanceof Tensor)) throw new TypeError(`save_safetensors: ${path}: '${name}' is not a Tensor`);
    const dtype = DTYPE_SAFETENSORS[t.dtype];
    const shape = t.shape;
    const bytes = t.numel() * TYPED_ARRAY[t.dtype].BYTES_PER_ELEMENT;
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  let headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    json += ' '.repeat(padded - headerBytes.length);
    headerBytes = new TextEncoder().encode(json);
  }
  writeAtomic(path, (sink) => {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    sink.write(len);
    sink.write(headerBytes);
    for (const [name, t] of items) {
      const bytes = tidy(() => {
        const src = t.device === 'cpu' ? t : t.cpu();
        const arr = src.toTypedArray();
        return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      });
      const want = (header[name] as { data_offsets: [number, number] }).data_offsets;
      if (bytes.length !== want[1] - want[0])
        throw new Error(`save_safetensors: ${path}: '${name}' gave ${bytes.length} bytes, expected ${want[1] - want[0]}`);
      sink.write(bytes);
    }
  });
}
