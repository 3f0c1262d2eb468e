// Making tensors: from JS data, constants, ranges and random streams.
import { DTYPE_CODE, type DType, dtypeOfArray, TYPED_ARRAY, type TypedArray } from './dtype.js';
import { native } from './native.js';
import { type Device, dimsOf, type Generator, op, type Shape, Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requires_grad?: boolean;
}

function finish(t: Tensor, o: TensorOptions): Tensor {
  if (o.requires_grad) t.requires_grad_(true);
  return t;
}

function codeOf(o: TensorOptions, fallback: DType = 'float32'): number {
  return DTYPE_CODE[o.dtype ?? fallback];
}

function checkShape(shape: Shape, what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${what}: invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** A tensor holding a copy of `data`, shaped `shape` (default: 1-D). */
export function fromTypedArray(data: TypedArray, shape?: Shape, options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? dtypeOfArray(data);
  const Ctor = TYPED_ARRAY[dtype];
  if (!(data instanceof Ctor)) throw new TypeError(`fromTypedArray: dtype ${dtype} needs a ${Ctor.name}, got ${data.constructor.name}`);
  const dims = shape ? [...shape] : [data.length];
  if (checkShape(dims, 'fromTypedArray') !== data.length) {
    throw new RangeError(`fromTypedArray: ${data.length} elements do not fill shape [${dims.join(', ')}]`);
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return finish(new Tensor(native.fromBytes(bytes, dims, DTYPE_CODE[dtype], options.device ?? 'cpu')), options);
}

type Nested = number | boolean | readonly Nested[];

function flatten(data: Nested, shape: number[], depth: number, out: number[]): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new RangeError('tensor(): ragged nested array');
    for (const d of data) flatten(d, shape, depth + 1, out);
  } else {
    if (depth !== shape.length) throw new RangeError('tensor(): ragged nested array');
    out.push(Number(data));
  }
}

/** torch.tensor: from a number or (nested) array of numbers. Default dtype float32. */
export function tensor(data: Nested | TypedArray, options: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) return fromTypedArray(data as TypedArray, undefined, options);
  const shape: number[] = [];
  const flat: number[] = [];
  flatten(data as Nested, shape, 0, flat);
  const dtype = options.dtype ?? 'float32';
  const Ctor = TYPED_ARRAY[dtype];
  const arr =
    dtype === 'int64'
      ? BigInt64Array.from(flat, (v) => BigInt(Math.trunc(v)))
      : new (Ctor as unknown as new (a: number[]) => TypedArray)(flat);
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const t = fromTypedArray(new Float32Array(flat), shape, {});
    const out = t.to(dtype);
    t.dispose();
    return finish(options.device ? out.to(options.device) : out, options);
  }
  return fromTypedArray(arr, shape, { ...options, dtype });
}

type ShapeArgs = (number | readonly number[])[];

export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return finish(op('zeros', [...shape], codeOf(options), undefined, options.device), options);
}
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return finish(op('ones', [...shape], codeOf(options), undefined, options.device), options);
}
export function empty(shape: Shape, options: TensorOptions = {}): Tensor {
  return finish(op('empty.memory_format', [...shape], codeOf(options), undefined, options.device), options);
}
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  return finish(op('full', [...shape], value, codeOf(options), undefined, options.device), options);
}
export function zeros_like(t: Tensor, options: TensorOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, device: t.device as Device, ...options });
}
export function ones_like(t: Tensor, options: TensorOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, device: t.device as Device, ...options });
}
export function full_like(t: Tensor, value: number, options: TensorOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, device: t.device as Device, ...options });
}

/** Values start, start+step, ... below end. Integer arguments give int64, as in PyTorch. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  const integral = [s, e, step].every(Number.isInteger);
  return finish(op('arange.start_step', s, e, step, codeOf(options, integral ? 'int64' : 'float32'), undefined, options.device), options);
}

export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return finish(op('linspace', start, end, steps, codeOf(options), undefined, options.device), options);
}

/** Uniform [0, 1). With a Generator the stream is independent of the global seed. */
export function rand(shape: Shape, options: TensorOptions & { generator?: Generator } = {}): Tensor {
  return random('rand.generator', shape, options);
}
/** Standard normal. */
export function randn(shape: Shape, options: TensorOptions & { generator?: Generator } = {}): Tensor {
  return random('randn.generator', shape, options);
}

function random(name: string, shape: Shape, options: TensorOptions & { generator?: Generator }): Tensor {
  // Drawn on the CPU and moved, so one seed gives the same numbers on every device.
  let t = op(name, [...shape], options.generator, codeOf(options));
  if (options.device && options.device !== 'cpu') {
    const moved = t.to(options.device);
    t.dispose();
    t = moved;
  }
  return finish(t, options);
}

/** Integers uniform in [low, high). */
export function randint(low: number, high: number, shape: Shape, options: TensorOptions & { generator?: Generator } = {}): Tensor {
  return finish(op('randint.low_generator', low, high, [...shape], options.generator, codeOf(options, 'int64')), options);
}

export function randperm(n: number, options: TensorOptions & { generator?: Generator } = {}): Tensor {
  return finish(op('randperm.generator', n, options.generator, codeOf(options, 'int64')), options);
}

export function eye(n: number, options: TensorOptions = {}): Tensor {
  return finish(op('eye', n, codeOf(options), undefined, options.device), options);
}

export type { ShapeArgs };
export { dimsOf };
