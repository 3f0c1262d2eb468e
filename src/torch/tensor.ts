// Tensor: a PyTorch-shaped handle on a libtorch tensor. Every method calls one ATen operator through
// the dispatcher (see native/src/ops.cc), so kernels, broadcasting, type promotion and gradients are
// libtorch's own.
import { DTYPE_CODE, type DType, dtypeFromCode, TYPED_ARRAY, type TypedArray } from './dtype.js';
import { type Handle, native } from './native.js';
import { type Disposable, track } from './scope.js';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type Shape = readonly number[];

/** A random number generator of its own (CPU), for reproducible streams independent of the global seed. */
export class Generator {
  readonly handle: Handle;
  constructor(seed: number) {
    this.handle = native.newGenerator(seed);
  }
  manual_seed(seed: number): this {
    native.generatorSeed(this.handle, seed);
    return this;
  }
}

// ---- operator dispatch -------------------------------------------------------------------------

const opIds = new Map<string, number>();

function opId(name: string): number {
  let id = opIds.get(name);
  if (id === undefined) {
    const dot = name.indexOf('.');
    id = native.opLookup(`aten::${dot < 0 ? name : name.slice(0, dot)}`, dot < 0 ? '' : name.slice(dot + 1));
    opIds.set(name, id);
  }
  return id;
}

function toNative(a: unknown): unknown {
  if (a instanceof Tensor || a instanceof Generator) return a.handle;
  if (Array.isArray(a)) return a.map(toNative);
  return a;
}

function fromNative(r: unknown): unknown {
  if (Array.isArray(r)) return r.map(fromNative);
  if (r !== null && typeof r === 'object') return new Tensor(r);
  return r;
}

/** Calls ATen operator `name` ("add.Tensor", "conv2d") with positional arguments in schema order. */
export function callOp(name: string, ...args: unknown[]): unknown {
  return fromNative(native.call(opId(name), ...args.map(toNative)));
}

/** callOp for operators that return one tensor. */
export function op(name: string, ...args: unknown[]): Tensor {
  return fromNative(native.call(opId(name), ...args.map(toNative))) as Tensor;
}

/** callOp for operators that return several tensors. */
export function opN(name: string, ...args: unknown[]): Tensor[] {
  return fromNative(native.call(opId(name), ...args.map(toNative))) as Tensor[];
}

/** A new native handle from a one-tensor operator, unwrapped (for Tensor subclasses' constructors). */
export function opHandle(name: string, ...args: unknown[]): Handle {
  return native.call(opId(name), ...args.map(toNative)) as Handle;
}

/** For in-place operators: runs it and returns `self` (no new handle is made). */
function inPlace<T extends Tensor>(name: string, self: T, ...args: unknown[]): T {
  native.callInPlace(opId(name), self.handle, ...args.map(toNative));
  return self;
}

/** The schema libtorch has for an operator, e.g. for error messages and docs. */
export function opSchema(name: string): string {
  return native.opSchema(opId(name));
}

/** Accepts PyTorch's two spellings: f(2, 3) and f([2, 3]). */
export function dimsOf(args: readonly (number | readonly number[])[]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as number[])] : (args as number[]);
}

// ---- Tensor ------------------------------------------------------------------------------------

// The fallback for tensors that may never be disposed: those outside every tidy() scope (made there,
// returned from the outermost scope, or kept). When one is garbage-collected its handle is released.
// Tensors inside a scope are not registered: registration makes V8 keep objects longer (measured:
// the heap of a 20,000-step training loop grew from 9 to 50 MB with every tensor registered), nor
// are their bytes reported to V8 as external memory (see accountForGc in native/src/tensor_handle.cc).
const gcFallback = new FinalizationRegistry<Handle>((h) => native.dispose(h));

interface Meta {
  dtype: DType;
  device: string;
  shape: number[];
}

export class Tensor implements Disposable {
  kept = false;
  #handle: Handle | undefined;
  #meta: Meta | undefined;
  #gcRegistered = false;
  /** The handle `grad` last returned, owned by this tensor. */
  #grad: Tensor | undefined;

  /** Wraps a native handle. Use the creation functions (tensor, zeros, ...) rather than this. */
  constructor(handle: Handle) {
    this.#handle = handle;
    if (!track(this)) this.unscoped();
  }

  get handle(): Handle {
    if (this.#handle === undefined) throw new Error('mmfd: this tensor was disposed');
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === undefined;
  }

  /** Releases the native memory now. Safe to call twice. */
  dispose(): void {
    this.#dropGrad();
    if (this.#handle !== undefined) {
      if (this.#gcRegistered) gcFallback.unregister(this);
      native.dispose(this.#handle);
      this.#handle = undefined;
    }
  }

  /** Exempts this tensor from disposal by the enclosing tidy() scopes. */
  keep(): this {
    this.kept = true;
    this.unscoped();
    return this;
  }

  unscoped(): void {
    if (!this.#gcRegistered && this.#handle !== undefined) {
      gcFallback.register(this, this.#handle, this);
      native.accountForGc(this.#handle);
      this.#gcRegistered = true;
    }
  }

  // ---- metadata ----

  #metaOf(): Meta {
    if (this.#meta === undefined) {
      const [code, device, , ...shape] = native.meta(this.handle);
      this.#meta = { dtype: dtypeFromCode(code), device, shape };
    }
    return this.#meta;
  }

  get shape(): number[] {
    return [...this.#metaOf().shape];
  }
  get dtype(): DType {
    return this.#metaOf().dtype;
  }
  get device(): string {
    return this.#metaOf().device;
  }
  get ndim(): number {
    return this.#metaOf().shape.length;
  }
  dim(): number {
    return this.ndim;
  }
  size(dim?: number): number {
    const s = this.#metaOf().shape;
    if (dim === undefined) throw new Error('size(): pass a dim, or read .shape');
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`size(${dim}): tensor has ${s.length} dims`);
    return s[d] as number;
  }
  numel(): number {
    return this.#metaOf().shape.reduce((a, b) => a * b, 1);
  }
  /** Element strides per dim. */
  stride(): number[] {
    return native.layout(this.handle).slice(3) as number[];
  }
  storage_offset(): number {
    return native.layout(this.handle)[0];
  }
  is_contiguous(): boolean {
    return native.layout(this.handle)[1];
  }
  /** Same shape and elements (torch.equal). */
  equal(other: Tensor): boolean {
    return callOp('equal', this, other) as boolean;
  }
  /** Whether two tensors are views of one storage. */
  shares_storage_with(other: Tensor): boolean {
    return native.layout(this.handle)[2] === native.layout(other.handle)[2];
  }
  is_same(other: Tensor): boolean {
    return native.sameTensor(this.handle, other.handle);
  }
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- data in and out ----

  /** A copy of the elements, C-contiguous, as the dtype's typed array. */
  toTypedArray(): TypedArray {
    const Ctor = TYPED_ARRAY[this.dtype];
    return new Ctor(native.toBytes(this.handle));
  }
  /** The elements as a flat array of numbers (int64 converted; half types widened to float32). */
  toArray(): number[] {
    const d = this.dtype;
    const src = d === 'float16' || d === 'bfloat16' ? this.float() : this;
    const out = Array.from(src.toTypedArray() as ArrayLike<number | bigint>, Number);
    if (src !== this) src.dispose();
    return out;
  }
  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel() !== 1) throw new Error(`item(): tensor has ${this.numel()} elements, not 1`);
    return this.toArray()[0] as number;
  }

  // ---- conversion ----

  to(target: DType | Device | { dtype?: DType; device?: Device }): Tensor {
    const opts = typeof target === 'string' ? (target in DTYPE_CODE ? { dtype: target as DType } : { device: target as Device }) : target;
    const dtype = opts.dtype === undefined ? undefined : DTYPE_CODE[opts.dtype];
    return op('_to_copy', this, dtype, undefined, opts.device);
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  half(): Tensor {
    return this.to('float16');
  }
  long(): Tensor {
    return this.to('int64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  cpu(): Tensor {
    return this.to('cpu');
  }
  cuda(index = 0): Tensor {
    return this.to(`cuda:${index}`);
  }
  clone(): Tensor {
    return op('clone', this);
  }
  detach(): Tensor {
    return op('detach', this);
  }
  contiguous(): Tensor {
    return op('contiguous', this);
  }

  // ---- autograd ----

  get requires_grad(): boolean {
    return native.meta(this.handle)[2];
  }
  requires_grad_(flag = true): this {
    native.setRequiresGrad(this.handle, flag);
    return this;
  }
  /**
   * The accumulated gradient, or undefined. As in PyTorch it is the same tensor on every access while
   * the gradient is (backward accumulates into it in place); this tensor owns it, so do not dispose it:
   * it is released when the gradient is cleared or replaced (zero_grad, `grad = ...`) or this tensor is disposed.
   */
  get grad(): Tensor | undefined {
    const cached = this.#grad?.isDisposed === false ? this.#grad : undefined;
    const h = native.grad(this.handle, cached?.handle);
    if (cached !== undefined && h === cached.handle) return cached;
    this.#dropGrad();
    if (h === undefined) return undefined;
    this.#grad = new Tensor(h).keep();
    return this.#grad;
  }
  /** Sets the gradient to g's data (g stays the caller's), or clears it. */
  set grad(g: Tensor | undefined) {
    native.setGrad(this.handle, g?.handle);
    this.#dropGrad();
  }
  #dropGrad(): void {
    this.#grad?.dispose();
    this.#grad = undefined;
  }
  get is_leaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The name of the autograd node that made this tensor, e.g. "AddBackward0". */
  get grad_fn(): string | undefined {
    return native.gradFnName(this.handle);
  }
  backward(gradient?: Tensor, options: { retain_graph?: boolean } = {}): void {
    native.backward([this.handle], gradient ? [gradient.handle] : undefined, options.retain_graph ?? false);
  }
  /** Makes this tensor hold source's data (any device or dtype) while keeping its identity, as
   *  PyTorch's `param.data = ...`; Module.to() moves parameters with it. */
  set_data(source: Tensor): this {
    native.setData(this.handle, source.handle);
    this.#meta = undefined;
    return this;
  }
  retain_grad(): this {
    return inPlace('retain_grad', this);
  }

  // ---- elementwise arithmetic (broadcasting) ----

  add(other: Tensor | number, alpha?: number): Tensor {
    return op(other instanceof Tensor ? 'add.Tensor' : 'add.Scalar', this, other, alpha);
  }
  sub(other: Tensor | number, alpha?: number): Tensor {
    return op(other instanceof Tensor ? 'sub.Tensor' : 'sub.Scalar', this, other, alpha);
  }
  mul(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'mul.Tensor' : 'mul.Scalar', this, other);
  }
  div(other: Tensor | number, rounding_mode?: 'trunc' | 'floor'): Tensor {
    if (rounding_mode !== undefined) return op(other instanceof Tensor ? 'div.Tensor_mode' : 'div.Scalar_mode', this, other, rounding_mode);
    return op(other instanceof Tensor ? 'div.Tensor' : 'div.Scalar', this, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return op(exponent instanceof Tensor ? 'pow.Tensor_Tensor' : 'pow.Tensor_Scalar', this, exponent);
  }
  remainder(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'remainder.Tensor' : 'remainder.Scalar', this, other);
  }
  maximum(other: Tensor): Tensor {
    return op('maximum', this, other);
  }
  minimum(other: Tensor): Tensor {
    return op('minimum', this, other);
  }
  neg(): Tensor {
    return op('neg', this);
  }
  abs(): Tensor {
    return op('abs', this);
  }
  sign(): Tensor {
    return op('sign', this);
  }
  exp(): Tensor {
    return op('exp', this);
  }
  log(): Tensor {
    return op('log', this);
  }
  log1p(): Tensor {
    return op('log1p', this);
  }
  sqrt(): Tensor {
    return op('sqrt', this);
  }
  rsqrt(): Tensor {
    return op('rsqrt', this);
  }
  square(): Tensor {
    return op('square', this);
  }
  reciprocal(): Tensor {
    return op('reciprocal', this);
  }
  sin(): Tensor {
    return op('sin', this);
  }
  cos(): Tensor {
    return op('cos', this);
  }
  floor(): Tensor {
    return op('floor', this);
  }
  ceil(): Tensor {
    return op('ceil', this);
  }
  round(): Tensor {
    return op('round', this);
  }
  sigmoid(): Tensor {
    return op('sigmoid', this);
  }
  tanh(): Tensor {
    return op('tanh', this);
  }
  relu(): Tensor {
    return op('relu', this);
  }
  erf(): Tensor {
    return op('erf', this);
  }
  clamp(min?: number, max?: number): Tensor {
    return op('clamp', this, min, max);
  }
  lerp(end: Tensor, weight: number): Tensor {
    return op('lerp.Scalar', this, end, weight);
  }

  // ---- comparisons and logic (bool results) ----

  eq(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'eq.Tensor' : 'eq.Scalar', this, other);
  }
  ne(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'ne.Tensor' : 'ne.Scalar', this, other);
  }
  lt(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'lt.Tensor' : 'lt.Scalar', this, other);
  }
  le(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'le.Tensor' : 'le.Scalar', this, other);
  }
  gt(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'gt.Tensor' : 'gt.Scalar', this, other);
  }
  ge(other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'ge.Tensor' : 'ge.Scalar', this, other);
  }
  logical_and(other: Tensor): Tensor {
    return op('logical_and', this, other);
  }
  logical_or(other: Tensor): Tensor {
    return op('logical_or', this, other);
  }
  logical_not(): Tensor {
    return op('logical_not', this);
  }
  isnan(): Tensor {
    return op('isnan', this);
  }
  /** self where cond is true, other elsewhere (torch.where(cond, self, other)). */
  where(cond: Tensor, other: Tensor | number): Tensor {
    return op(other instanceof Tensor ? 'where.self' : 'where.ScalarOther', cond, this, other);
  }
  masked_fill(mask: Tensor, value: number): Tensor {
    return op('masked_fill.Scalar', this, mask, value);
  }

  // ---- reductions ----

  sum(dim?: number | number[], keepdim = false, dtype?: DType): Tensor {
    const code = dtype === undefined ? undefined : DTYPE_CODE[dtype];
    if (dim === undefined) return op('sum', this, code);
    return op('sum.dim_IntList', this, typeof dim === 'number' ? [dim] : dim, keepdim, code);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    if (dim === undefined) return op('mean', this);
    return op('mean.dim', this, typeof dim === 'number' ? [dim] : dim, keepdim);
  }
  prod(): Tensor {
    return op('prod', this);
  }
  /** Variance with Bessel's correction by default (correction 1), as torch.var. */
  var(dim?: number | number[], options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    const dims = typeof dim === 'number' ? [dim] : dim;
    return op('var.correction', this, dims, options.correction ?? 1, options.keepdim ?? false);
  }
  std(dim?: number | number[], options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    const dims = typeof dim === 'number' ? [dim] : dim;
    return op('std.correction', this, dims, options.correction ?? 1, options.keepdim ?? false);
  }
  /** The vector p-norm over all elements or the given dims. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return op('linalg_vector_norm', this, p, typeof dim === 'number' ? [dim] : dim, keepdim);
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return op('max', this);
    const [values, indices] = opN('max.dim', this, dim, keepdim) as [Tensor, Tensor];
    return { values, indices };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return op('min', this);
    const [values, indices] = opN('min.dim', this, dim, keepdim) as [Tensor, Tensor];
    return { values, indices };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return op('argmax', this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return op('argmin', this, dim, keepdim);
  }
  any(): Tensor {
    return op('any', this);
  }
  all(): Tensor {
    return op('all', this);
  }
  cumsum(dim: number): Tensor {
    return op('cumsum', this, dim);
  }

  // ---- linear algebra ----

  matmul(other: Tensor): Tensor {
    return op('matmul', this, other);
  }
  mm(other: Tensor): Tensor {
    return op('mm', this, other);
  }
  bmm(other: Tensor): Tensor {
    return op('bmm', this, other);
  }

  // ---- softmax ----

  softmax(dim: number): Tensor {
    return op('softmax.int', this, dim);
  }
  log_softmax(dim: number): Tensor {
    return op('log_softmax.int', this, dim);
  }

  // ---- shape and indexing ----

  reshape(...shape: (number | readonly number[])[]): Tensor {
    return op('reshape', this, dimsOf(shape));
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    return op('view', this, dimsOf(shape));
  }
  flatten(start_dim = 0, end_dim = -1): Tensor {
    return op('flatten.using_ints', this, start_dim, end_dim);
  }
  unflatten(dim: number, sizes: number[]): Tensor {
    return op('unflatten.int', this, dim, sizes);
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return op('permute', this, dimsOf(dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return op('transpose.int', this, dim0, dim1);
  }
  /** The transpose of a 2-D tensor. */
  t(): Tensor {
    return op('t', this);
  }
  unsqueeze(dim: number): Tensor {
    return op('unsqueeze', this, dim);
  }
  squeeze(dim?: number): Tensor {
    return dim === undefined ? op('squeeze', this) : op('squeeze.dim', this, dim);
  }
  expand(...sizes: (number | readonly number[])[]): Tensor {
    return op('expand', this, dimsOf(sizes));
  }
  expand_as(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  repeat(...repeats: (number | readonly number[])[]): Tensor {
    return op('repeat', this, dimsOf(repeats));
  }
  flip(...dims: (number | readonly number[])[]): Tensor {
    return op('flip', this, dimsOf(dims));
  }
  roll(shifts: number | number[], dims: number | number[]): Tensor {
    return op('roll', this, typeof shifts === 'number' ? [shifts] : shifts, typeof dims === 'number' ? [dims] : dims);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return op('narrow', this, dim, start, length);
  }
  /** self[..., start:end:step, ...] along dim (a view). end undefined means to the end. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return op('slice.Tensor', this, dim, start, end, step);
  }
  /** self[..., index, ...] along dim, removing that dim (a view). */
  select(dim: number, index: number): Tensor {
    return op('select.int', this, dim, index);
  }
  index_select(dim: number, index: Tensor): Tensor {
    return op('index_select', this, dim, index);
  }
  gather(dim: number, index: Tensor): Tensor {
    return op('gather', this, dim, index);
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return op(src instanceof Tensor ? 'scatter.src' : 'scatter.value', this, dim, index, src);
  }
  scatter_add(dim: number, index: Tensor, src: Tensor): Tensor {
    return op('scatter_add', this, dim, index, src);
  }
  /** Boolean-mask selection (a 1-D copy of the selected elements). */
  masked_select(mask: Tensor): Tensor {
    return op('masked_select', this, mask);
  }
  split(split_size: number | number[], dim = 0): Tensor[] {
    return typeof split_size === 'number' ? opN('split.Tensor', this, split_size, dim) : opN('split_with_sizes', this, split_size, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return opN('chunk', this, chunks, dim);
  }
  unbind(dim = 0): Tensor[] {
    return opN('unbind.int', this, dim);
  }

  // ---- in place (trailing underscore, as in PyTorch) ----

  add_(other: Tensor | number, alpha?: number): this {
    return inPlace(other instanceof Tensor ? 'add_.Tensor' : 'add_.Scalar', this, other, alpha);
  }
  sub_(other: Tensor | number, alpha?: number): this {
    return inPlace(other instanceof Tensor ? 'sub_.Tensor' : 'sub_.Scalar', this, other, alpha);
  }
  mul_(other: Tensor | number): this {
    return inPlace(other instanceof Tensor ? 'mul_.Tensor' : 'mul_.Scalar', this, other);
  }
  div_(other: Tensor | number): this {
    return inPlace(other instanceof Tensor ? 'div_.Tensor' : 'div_.Scalar', this, other);
  }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    return inPlace('addcmul_', this, t1, t2, value);
  }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    return inPlace('addcdiv_', this, t1, t2, value);
  }
  lerp_(end: Tensor, weight: number): this {
    return inPlace('lerp_.Scalar', this, end, weight);
  }
  clamp_(min?: number, max?: number): this {
    return inPlace('clamp_', this, min, max);
  }
  sqrt_(): this {
    return inPlace('sqrt_', this);
  }
  zero_(): this {
    return inPlace('zero_', this);
  }
  fill_(value: number): this {
    return inPlace('fill_.Scalar', this, value);
  }
  copy_(src: Tensor): this {
    return inPlace('copy_', this, src);
  }
  masked_fill_(mask: Tensor, value: number): this {
    return inPlace('masked_fill_.Scalar', this, mask, value);
  }
  uniform_(from = 0, to = 1, generator?: Generator): this {
    return inPlace('uniform_', this, from, to, generator);
  }
  normal_(mean = 0, std = 1, generator?: Generator): this {
    return inPlace('normal_', this, mean, std, generator);
  }
}
