// A restricted unpickler and a small protocol-2 pickler, for PyTorch checkpoints.
//
// The unpickler never executes anything: GLOBAL / STACK_GLOBAL / INST / OBJ only resolve names through
// an allow-list (by default the classes and functions a tensor checkpoint needs), and REDUCE / NEWOBJ /
// BUILD only act on what that allow-list returned. Any other global is refused with an error naming it.

/** A Python value as the unpickler returns it. dict -> Map (insertion order), list/tuple -> array,
 *  int -> number (bigint beyond 2^53), bytes -> Uint8Array, None -> null, set -> Set. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleKey, PickleValue>
  | Set<PickleKey>
  | object;
export type PickleKey = null | boolean | number | bigint | string | object;

/** What an allowed global resolves to. A global without `call` can be referenced but not called. */
export interface PickleGlobal {
  readonly module: string;
  readonly name: string;
  /** For REDUCE (`f(*args)`) and NEWOBJ (`cls.__new__(cls, *args)`). */
  call?: (args: PickleValue[]) => PickleValue;
  /** For BUILD on the objects this global made: `state` is the pickled state. Default: ignored. */
  build?: (obj: PickleValue, state: PickleValue) => PickleValue;
}

export interface UnpickleOptions {
  /** The name used in error messages (the checkpoint path). */
  filename?: string;
  /** Resolves a global; return undefined to refuse it. Default: the tensor-checkpoint allow-list. */
  findGlobal?: (module: string, name: string) => PickleGlobal | undefined;
  /** Resolves a persistent id (BINPERSID / PERSID). Default: persistent ids are refused. */
  persistentLoad?: (pid: PickleValue) => PickleValue;
}

/** The globals a plain (non-tensor) checkpoint may name: collections.OrderedDict only. */
export function orderedDictGlobal(): PickleGlobal {
  return {
    module: 'collections',
    name: 'OrderedDict',
    call: (args) => {
      const m = new Map<PickleKey, PickleValue>();
      const init = args[0];
      if (Array.isArray(init)) {
        for (const kv of init) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0] as PickleKey, kv[1] as PickleValue);
      } else if (init instanceof Map) {
        for (const [k, v] of init) m.set(k, v);
      }
      return m;
    },
    // OrderedDict state (e.g. a state dict's `_metadata` attribute) carries nothing tensors need.
    build: (obj) => obj,
  };
}

class Mark {}
const MARK = new Mark();

/** The globals findGlobal handed out: only these may be called or receive BUILD. */
const allowedGlobals = new WeakSet<PickleGlobal>();
/** Which global built an object, so BUILD can be routed to that global's `build`. */
const builtBy = new WeakMap<object, PickleGlobal>();

function isAllowedGlobal(v: unknown): v is PickleGlobal {
  return v !== null && typeof v === 'object' && allowedGlobals.has(v as PickleGlobal);
}

const OPCODE_NAMES: Record<number, string> = {
  128: 'PROTO',
  149: 'FRAME',
  46: 'STOP',
  40: 'MARK',
  125: 'EMPTY_DICT',
  93: 'EMPTY_LIST',
  41: 'EMPTY_TUPLE',
};

export class UnpicklingError extends Error {}

function opName(op: number): string {
  const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
  return `0x${op.toString(16).padStart(2, '0')}${ch}${OPCODE_NAMES[op] ? ` (${OPCODE_NAMES[op]})` : ''}`;
}

function intValue(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** A little-endian two's-complement integer of any length (LONG1 / LONG4). */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  if ((bytes[bytes.length - 1] as number) & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return intValue(v);
}

/**
 * Unpickles `data` without executing anything. Globals resolve only through `findGlobal`
 * (default: refuse everything except collections.OrderedDict).
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): PickleValue {
  const file = options.filename ?? '<pickle>';
  const findGlobal =
    options.findGlobal ?? ((m: string, n: string) => (m === 'collections' && n === 'OrderedDict' ? orderedDictGlobal() : undefined));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (msg: string): never => {
    throw new UnpicklingError(`${file}: ${msg}`);
  };
  const need = (n: number, what: string): void => {
    if (n < 0 || pos + n > data.length) {
      fail(`truncated pickle: ${what} at byte ${pos} needs ${n} bytes but only ${data.length - pos} remain`);
    }
  };
  const u8 = (what: string): number => {
    need(1, what);
    return data[pos++] as number;
  };
  const u16 = (what: string): number => {
    need(2, what);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (what: string): number => {
    need(4, what);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (what: string): number => {
    need(8, what);
    const v = view.getBigUint64(pos, true);
    if (v > BigInt(data.length)) fail(`truncated pickle: ${what} at byte ${pos} declares ${v} bytes`);
    pos += 8;
    return Number(v);
  };
  const bytes = (n: number, what: string): Uint8Array => {
    need(n, what);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (what: string): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated pickle: ${what} at byte ${pos} has no end of line`);
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (b: Uint8Array, what: string): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail(`invalid UTF-8 in ${what} at byte ${pos - b.length}`);
    }
  };
  const pop = (what: string): unknown => {
    if (stack.length === 0) fail(`corrupt pickle: ${what} at byte ${pos - 1} on an empty stack`);
    const v = stack.pop();
    if (v === MARK) fail(`corrupt pickle: ${what} at byte ${pos - 1} found a MARK where a value was expected`);
    return v;
  };
  const top = (what: string): unknown => {
    if (stack.length === 0) fail(`corrupt pickle: ${what} at byte ${pos - 1} on an empty stack`);
    return stack[stack.length - 1];
  };
  const popMark = (what: string): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) fail(`corrupt pickle: ${what} at byte ${pos - 1} without a MARK`);
    stack = prev as unknown[];
    return items;
  };
  const resolve = (module: string, name: string): PickleGlobal => {
    const g = findGlobal(module, name);
    if (g === undefined) {
      return fail(`refusing to load: the pickle refers to ${module}.${name}, which is not a tensor-checkpoint class`);
    }
    allowedGlobals.add(g);
    return g;
  };
  const callGlobal = (callable: unknown, args: unknown, opname: string): unknown => {
    if (!isAllowedGlobal(callable))
      return fail(`refusing to load: ${opname} at byte ${pos - 1} calls something that is not an allowed global`);
    const call = callable.call;
    if (call === undefined)
      return fail(`refusing to load: ${opname} at byte ${pos - 1} calls ${callable.module}.${callable.name}, which may not be called`);
    if (!Array.isArray(args)) return fail(`corrupt pickle: ${opname} at byte ${pos - 1} with arguments that are not a tuple`);
    const out = call(args as PickleValue[]);
    if (out !== null && typeof out === 'object') builtBy.set(out, callable);
    return out;
  };
  const setItems = (target: unknown, items: unknown[], opname: string): void => {
    if (!(target instanceof Map)) fail(`corrupt pickle: ${opname} at byte ${pos - 1} on something that is not a dict`);
    if (items.length % 2 !== 0) fail(`corrupt pickle: ${opname} at byte ${pos - 1} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[], opname: string): void => {
    if (!Array.isArray(target)) fail(`corrupt pickle: ${opname} at byte ${pos - 1} on something that is not a list`);
    (target as unknown[]).push(...items);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`corrupt pickle: memo entry ${i} read at byte ${pos} was never stored`);
    return memo.get(i);
  };

  for (;;) {
    if (pos >= data.length) fail(`truncated pickle: the data ended at byte ${pos} without a STOP opcode`);
    const at = pos;
    const op = data[pos++] as number;
    switch (op) {
      case 0x80: {
        // PROTO
        const proto = u8('PROTO');
        if (proto > 5) fail(`unsupported pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME: an 8-byte length; frames are only a buffering hint
        need(8, 'FRAME');
        pos += 8;
        break;
      case 0x2e: {
        // STOP
        const result = pop('STOP');
        return result as PickleValue;
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark('POP');
        break;
      case 0x31: // POP_MARK
        popMark('POP_MARK');
        break;
      case 0x32: // DUP
        stack.push(top('DUP'));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32('BININT'));
        break;
      case 0x4b: // BININT1
        stack.push(u8('BININT1'));
        break;
      case 0x4d: // BININT2
        stack.push(u16('BININT2'));
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(bytes(u8('LONG1'), 'LONG1')));
        break;
      case 0x8b: {
        // LONG4
        const n = i32('LONG4');
        if (n < 0) fail(`corrupt pickle: LONG4 with negative length at byte ${at}`);
        stack.push(decodeLong(bytes(n, 'LONG4')));
        break;
      }
      case 0x49: {
        // INT (protocol 0): decimal, or 00/01 for False/True
        const s = line('INT');
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else {
          if (!/^[+-]?\d+$/.test(s)) fail(`corrupt pickle: INT '${s}' at byte ${at}`);
          stack.push(intValue(BigInt(s)));
        }
        break;
      }
      case 0x4c: {
        // LONG (protocol 0)
        const s = line('LONG').replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`corrupt pickle: LONG '${s}' at byte ${at}`);
        stack.push(intValue(BigInt(s)));
        break;
      }
      case 0x47: {
        // BINFLOAT: big-endian double
        need(8, 'BINFLOAT');
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x46: {
        // FLOAT (protocol 0)
        const s = line('FLOAT');
        const v = Number(s);
        if (Number.isNaN(v) && !/^[+-]?nan$/i.test(s)) fail(`corrupt pickle: FLOAT '${s}' at byte ${at}`);
        stack.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(str(bytes(u32('BINUNICODE'), 'BINUNICODE'), 'BINUNICODE'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(bytes(u8('SHORT_BINUNICODE'), 'SHORT_BINUNICODE'), 'SHORT_BINUNICODE'));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(str(bytes(u64('BINUNICODE8'), 'BINUNICODE8'), 'BINUNICODE8'));
        break;
      case 0x56: // UNICODE (protocol 0): raw-unicode-escape
        stack.push(
          line('UNICODE').replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8hex: string | undefined) =>
            String.fromCodePoint(Number.parseInt((u4 ?? u8hex) as string, 16)),
          ),
        );
        break;
      case 0x54: {
        // BINSTRING (Python 2 str): decoded as Latin-1 text
        const n = i32('BINSTRING');
        if (n < 0) fail(`corrupt pickle: BINSTRING with negative length at byte ${at}`);
        stack.push(latin1.decode(bytes(n, 'BINSTRING')));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8('SHORT_BINSTRING'), 'SHORT_BINSTRING')));
        break;
      case 0x53: {
        // STRING (protocol 0): a quoted literal without escapes is all checkpoints use
        const s = line('STRING');
        const q = s[0];
        if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) fail(`corrupt pickle: STRING at byte ${at}`);
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(bytes(u32('BINBYTES'), 'BINBYTES').slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8('SHORT_BINBYTES'), 'SHORT_BINBYTES').slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64('BINBYTES8'), 'BINBYTES8').slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64('BYTEARRAY8'), 'BYTEARRAY8').slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark('ADDITEMS');
        const s = top('ADDITEMS');
        if (!(s instanceof Set)) fail(`corrupt pickle: ADDITEMS at byte ${at} on something that is not a set`);
        for (const v of items) (s as Set<unknown>).add(v);
        break;
      }
      case 0x91: // FROZENSET
        {
          const items = popMark('FROZENSET');
          stack.push(new Set(items));
        }
        break;
      case 0x74: // TUPLE
        {
          const items = popMark('TUPLE'); // (stack changes: do not write stack.push(popMark()))
          stack.push(items);
          break;
        }
      case 0x85: // TUPLE1
        stack.push([pop('TUPLE1')]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop('TUPLE2');
        const a = pop('TUPLE2');
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop('TUPLE3');
        const b = pop('TUPLE3');
        const a = pop('TUPLE3');
        stack.push([a, b, c]);
        break;
      }
      case 0x6c: // LIST
        {
          const items = popMark('LIST'); // (stack changes: do not write stack.push(popMark()))
          stack.push(items);
          break;
        }
      case 0x64: {
        // DICT
        const items = popMark('DICT');
        const d = new Map();
        setItems(d, items, 'DICT');
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop('APPEND');
        appendItems(top('APPEND'), [v], 'APPEND');
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark('APPENDS');
        appendItems(top('APPENDS'), items, 'APPENDS');
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop('SETITEM');
        const k = pop('SETITEM');
        setItems(top('SETITEM'), [k, v], 'SETITEM');
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark('SETITEMS');
        setItems(top('SETITEMS'), items, 'SETITEMS');
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8('BINPUT'), top('BINPUT'));
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32('LONG_BINPUT'), top('LONG_BINPUT'));
        break;
      case 0x70: {
        // PUT (protocol 0)
        const s = line('PUT');
        memo.set(Number.parseInt(s, 10), top('PUT'));
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, top('MEMOIZE'));
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8('BINGET')));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32('LONG_BINGET')));
        break;
      case 0x67: // GET (protocol 0)
        stack.push(memoGet(Number.parseInt(line('GET'), 10)));
        break;
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line('GLOBAL');
        const name = line('GLOBAL');
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop('STACK_GLOBAL');
        const module = pop('STACK_GLOBAL');
        if (typeof module !== 'string' || typeof name !== 'string')
          fail(`corrupt pickle: STACK_GLOBAL at byte ${at} with non-string names`);
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop('REDUCE');
        const f = pop('REDUCE');
        stack.push(callGlobal(f, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop('NEWOBJ');
        const cls = pop('NEWOBJ');
        stack.push(callGlobal(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: keyword arguments are not supported by any allowed class
        const kwargs = pop('NEWOBJ_EX');
        const args = pop('NEWOBJ_EX');
        const cls = pop('NEWOBJ_EX');
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail(`refusing to load: NEWOBJ_EX at byte ${at} with keyword arguments`);
        stack.push(callGlobal(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case 0x6f: {
        // OBJ: MARK cls args... OBJ
        const items = popMark('OBJ');
        if (items.length === 0) fail(`corrupt pickle: OBJ at byte ${at} without a class`);
        stack.push(callGlobal(items[0], items.slice(1), 'OBJ'));
        break;
      }
      case 0x69: {
        // INST: MARK args... INST module\nname\n
        const module = line('INST');
        const name = line('INST');
        const items = popMark('INST');
        stack.push(callGlobal(resolve(module, name), items, 'INST'));
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state) / obj.__dict__.update(state)
        const state = pop('BUILD');
        const obj = top('BUILD');
        const g = obj !== null && typeof obj === 'object' ? builtBy.get(obj) : undefined;
        if (g === undefined) return fail(`refusing to load: BUILD at byte ${at} on an object that no allowed class made`);
        const out = g.build ? g.build(obj as PickleValue, state as PickleValue) : obj;
        stack[stack.length - 1] = out;
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop('BINPERSID');
        if (options.persistentLoad === undefined)
          fail(`refusing to load: the pickle has a persistent id at byte ${at} and none are expected here`);
        stack.push((options.persistentLoad as (p: PickleValue) => PickleValue)(pid as PickleValue));
        break;
      }
      case 0x50: {
        // PERSID (protocol 0)
        const pid = line('PERSID');
        if (options.persistentLoad === undefined)
          fail(`refusing to load: the pickle has a persistent id at byte ${at} and none are expected here`);
        stack.push((options.persistentLoad as (p: PickleValue) => PickleValue)(pid));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        fail(`refusing to load: extension-registry opcode ${opName(op)} at byte ${at}`);
        break;
      case 0x97:
      case 0x98:
        fail(`unsupported pickle opcode ${opName(op)} (out-of-band buffers) at byte ${at}`);
        break;
      default:
        fail(`unknown pickle opcode ${opName(op)} at byte ${at}`);
    }
  }
}

// ---- writing (protocol 2) ----------------------------------------------------------------------

/** A reference to a Python global, written with GLOBAL (and memoized). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** A Python tuple (plain arrays are written as lists). */
export class PyTuple {
  constructor(readonly items: readonly PickleWritable[]) {}
}

/** `callable(*args)` written as GLOBAL + args tuple + REDUCE. */
export class PyReduce {
  constructor(
    readonly callable: PyGlobal,
    readonly args: readonly PickleWritable[],
  ) {}
}

/** A persistent id (BINPERSID): the tuple is resolved by the loader, e.g. torch's storages. */
export class PyPersistentId {
  constructor(readonly pid: PickleWritable) {}
}

/** An `OrderedDict` (written as `collections.OrderedDict()` + SETITEMS), as torch.save does for state dicts. */
export class PyOrderedDict {
  constructor(readonly entries: readonly (readonly [PickleWritable, PickleWritable])[]) {}
}

/** A Python dict. */
export class PyDict {
  constructor(readonly entries: readonly (readonly [PickleWritable, PickleWritable])[]) {}
}

/** A Python float, even when the value is integral (JS numbers that are safe integers are written as int). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PickleWritable =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | PyGlobal
  | PyTuple
  | PyReduce
  | PyPersistentId
  | PyOrderedDict
  | PyDict
  | readonly PickleWritable[];

class ByteBuilder {
  #buf = new Uint8Array(1024);
  length = 0;
  #ensure(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
  }
  byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.length++] = b;
  }
  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }
  u16(v: number): void {
    this.#ensure(2);
    new DataView(this.#buf.buffer).setUint16(this.length, v, true);
    this.length += 2;
  }
  i32(v: number): void {
    this.#ensure(4);
    new DataView(this.#buf.buffer).setInt32(this.length, v, true);
    this.length += 4;
  }
  u32(v: number): void {
    this.#ensure(4);
    new DataView(this.#buf.buffer).setUint32(this.length, v, true);
    this.length += 4;
  }
  f64be(v: number): void {
    this.#ensure(8);
    new DataView(this.#buf.buffer).setFloat64(this.length, v, false);
    this.length += 8;
  }
  result(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

function encodeLong(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = v;
  // Two's complement, little-endian, shortest form whose sign bit is right.
  for (;;) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
    const sign = ((out[out.length - 1] as number) & 0x80) !== 0;
    if ((x === 0n && !sign) || (x === -1n && sign)) break;
  }
  return Uint8Array.from(out);
}

const BATCH = 1000;

/** Pickles a value with protocol 2 (what torch.save writes). Globals are memoized with BINPUT/BINGET. */
export function pickle(value: PickleWritable): Uint8Array {
  const out = new ByteBuilder();
  const enc = new TextEncoder();
  const globalMemo = new Map<string, number>();
  let memoNext = 0;

  const writeString = (s: string): void => {
    const b = enc.encode(s);
    out.byte(0x58); // BINUNICODE
    out.u32(b.length);
    out.bytes(b);
  };
  const writeInt = (v: number | bigint): void => {
    if (typeof v === 'number' && v >= 0 && v < 256) {
      out.byte(0x4b);
      out.byte(v);
    } else if (typeof v === 'number' && v >= 0 && v < 65536) {
      out.byte(0x4d);
      out.u16(v);
    } else if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) {
      out.byte(0x4a);
      out.i32(v);
    } else {
      const b = encodeLong(BigInt(v));
      if (b.length > 255) throw new RangeError('pickle: integer too large');
      out.byte(0x8a); // LONG1
      out.byte(b.length);
      out.bytes(b);
    }
  };
  const writeGlobal = (g: PyGlobal): void => {
    const key = `${g.module}\n${g.name}`;
    const idx = globalMemo.get(key);
    if (idx !== undefined) {
      if (idx < 256) {
        out.byte(0x68); // BINGET
        out.byte(idx);
      } else {
        out.byte(0x6a); // LONG_BINGET
        out.u32(idx);
      }
      return;
    }
    if (g.module.includes('\n') || g.name.includes('\n')) throw new Error(`pickle: invalid global name ${g.module}.${g.name}`);
    out.byte(0x63); // GLOBAL
    out.bytes(enc.encode(`${g.module}\n${g.name}\n`));
    const i = memoNext++;
    globalMemo.set(key, i);
    if (i < 256) {
      out.byte(0x71); // BINPUT
      out.byte(i);
    } else {
      out.byte(0x72); // LONG_BINPUT
      out.u32(i);
    }
  };
  const writeTuple = (items: readonly PickleWritable[]): void => {
    if (items.length === 0) out.byte(0x29);
    else if (items.length <= 3) {
      for (const v of items) write(v);
      out.byte([0x85, 0x86, 0x87][items.length - 1] as number);
    } else {
      out.byte(0x28);
      for (const v of items) write(v);
      out.byte(0x74);
    }
  };
  const writeItems = (entries: readonly (readonly [PickleWritable, PickleWritable])[]): void => {
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      if (batch.length === 1) {
        const [k, v] = batch[0] as readonly [PickleWritable, PickleWritable];
        write(k);
        write(v);
        out.byte(0x73); // SETITEM
      } else {
        out.byte(0x28);
        for (const [k, v] of batch) {
          write(k);
          write(v);
        }
        out.byte(0x75); // SETITEMS
      }
    }
  };
  const write = (v: PickleWritable): void => {
    if (v === null) out.byte(0x4e);
    else if (v === true) out.byte(0x88);
    else if (v === false) out.byte(0x89);
    else if (typeof v === 'number') {
      // Safe integers are Python ints; everything else (fractions, -0, NaN, huge values) is a float.
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) writeInt(v);
      else {
        out.byte(0x47);
        out.f64be(v);
      }
    } else if (typeof v === 'bigint') writeInt(v);
    else if (typeof v === 'string') writeString(v);
    else if (v instanceof PyFloat) {
      out.byte(0x47);
      out.f64be(v.value);
    } else if (v instanceof PyGlobal) writeGlobal(v);
    else if (v instanceof PyTuple) writeTuple(v.items);
    else if (v instanceof PyReduce) {
      writeGlobal(v.callable);
      writeTuple(v.args);
      out.byte(0x52);
    } else if (v instanceof PyPersistentId) {
      write(v.pid);
      out.byte(0x51);
    } else if (v instanceof PyOrderedDict) {
      writeGlobal(new PyGlobal('collections', 'OrderedDict'));
      out.byte(0x29);
      out.byte(0x52);
      writeItems(v.entries);
    } else if (v instanceof PyDict) {
      out.byte(0x7d);
      writeItems(v.entries);
    } else if (Array.isArray(v)) {
      out.byte(0x5d); // EMPTY_LIST
      const items = v as readonly PickleWritable[];
      for (let i = 0; i < items.length; i += BATCH) {
        const batch = items.slice(i, i + BATCH);
        if (batch.length === 1) {
          write(batch[0] as PickleWritable);
          out.byte(0x61); // APPEND
        } else {
          out.byte(0x28);
          for (const x of batch) write(x);
          out.byte(0x65); // APPENDS
        }
      }
    } else {
      throw new TypeError(`pickle: cannot write ${Object.prototype.toString.call(v)}`);
    }
  };

  out.byte(0x80);
  out.byte(2);
  write(value);
  out.byte(0x2e);
  return out.result();
}
