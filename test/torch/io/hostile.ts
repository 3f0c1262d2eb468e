// Hostile .pth files for the loader tests, written opcode by opcode (independent of mmfd's pickle
// writer, so they can hold what no writer should produce: shared sub-lists, cycles, absurd nesting).
import { write_zip } from '../../../src/torch/io/zip.js';

/** Protocol-2 pickle opcodes, appended in order. */
export class RawPickle {
  readonly #parts: number[] = [0x80, 2];

  op(...bytes: number[]): this {
    this.#parts.push(...bytes);
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return this.op(0x58, ...n, ...b); // BINUNICODE
  }
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.op(0x4a, ...b); // BININT
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)); // GLOBAL
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  emptyList(): this {
    return this.op(0x5d);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  put(i: number): this {
    return this.op(0x71, i); // BINPUT
  }
  get(i: number): this {
    return this.op(0x68, i); // BINGET
  }
  /** A float32 tensor: rebuilt from storage `key` of `numel` elements with the given view. */
  tensor(key: string, numel: number, offset: number, size: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', 'FloatStorage').str(key).str('cpu').int(numel).tuple().op(0x51); // BINPERSID
    this.int(offset).mark();
    for (const d of size) this.int(d);
    this.tuple().mark();
    for (const s of stride) this.int(s);
    this.tuple().op(0x89); // NEWFALSE (requires_grad)
    this.global('collections', 'OrderedDict').op(0x29, 0x52); // OrderedDict()
    return this.tuple().op(0x52); // REDUCE
  }
  bytes(): Uint8Array {
    return Uint8Array.from([...this.#parts, 0x2e]); // STOP
  }
}

/** Writes a torch.save-style zip: archive/data.pkl plus the given storages. */
export function writePth(path: string, pkl: Uint8Array, storages: Record<string, Uint8Array> = {}): void {
  write_zip(path, [
    { name: 'archive/data.pkl', data: pkl },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
  ]);
}

/** {'state_dict': {}, 'extra': x} where x is pushed by `value`. */
export function beside(value: (p: RawPickle) => void): Uint8Array {
  const p = new RawPickle().emptyDict().mark().str('state_dict').emptyDict().str('extra');
  value(p);
  return p.op(0x75).bytes(); // SETITEMS
}

/** L = [0]; then `levels` times L = [L, L] (one list object reused at each level: 2^levels paths). */
export function sharedLists(p: RawPickle, levels: number): void {
  p.emptyList().int(0).op(0x61).put(0).op(0x30); // [0], APPEND, POP
  for (let i = 1; i <= levels; i++)
    p.emptyList()
      .mark()
      .get(i - 1)
      .get(i - 1)
      .op(0x65)
      .put(i)
      .op(0x30); // APPENDS
  p.get(levels);
}

/** A dict whose key is such a shared list (a hostile file can do what Python cannot). */
export function sharedListKey(p: RawPickle, levels: number): void {
  p.emptyDict();
  sharedLists(p, levels);
  p.int(1).op(0x73); // SETITEM
}

/** A list that contains itself. */
export function selfList(p: RawPickle): void {
  p.emptyList().put(0).get(0).op(0x61); // APPEND
}

/** `depth` lists nested one in the other. */
export function nestedLists(p: RawPickle, depth: number): void {
  for (let i = 0; i < depth; i++) p.mark();
  p.emptyList();
  for (let i = 0; i < depth; i++) p.op(0x6c); // LIST
}
