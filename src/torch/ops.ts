// torch.* functions that take several tensors, plus autograd mode and process settings.
import { native } from './native.js';
import { callOp, type Device, op, opN, type Tensor } from './tensor.js';

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return op('cat', tensors, dim);
}
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return op('stack', tensors, dim);
}
/** Elements of a where cond is true, of b elsewhere. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number') return op('where.Scalar', cond, a, b);
  if (typeof a === 'number') return op('where.ScalarSelf', cond, a, b);
  if (typeof b === 'number') return op('where.ScalarOther', cond, a, b);
  return op('where.self', cond, a, b);
}
export function maximum(a: Tensor, b: Tensor): Tensor {
  return op('maximum', a, b);
}
export function minimum(a: Tensor, b: Tensor): Tensor {
  return op('minimum', a, b);
}
export function matmul(a: Tensor, b: Tensor): Tensor {
  return op('matmul', a, b);
}
export function bmm(a: Tensor, b: Tensor): Tensor {
  return op('bmm', a, b);
}
export function einsum(equation: string, tensors: readonly Tensor[]): Tensor {
  return op('einsum', equation, tensors);
}
/** Coordinate grids, indexing 'ij' (matrix) or 'xy' (Cartesian), as torch.meshgrid. */
export function meshgrid(tensors: readonly Tensor[], indexing: 'ij' | 'xy' = 'ij'): Tensor[] {
  return opN('meshgrid.indexing', tensors, indexing);
}
/** Whether two tensors have the same shape and elements within rtol/atol. */
export function allclose(a: Tensor, b: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
  return callOp('allclose', a, b, rtol, atol, false) as boolean;
}

// ---- autograd mode ----

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = native.isGradEnabled();
  native.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs fn with gradient recording off (torch.no_grad). */
export function no_grad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}
export function enable_grad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
export function is_grad_enabled(): boolean {
  return native.isGradEnabled();
}

/** Gradients of outputs (scalars, or with explicit grad_tensors) accumulated into the leaves' .grad. */
export function backward(outputs: readonly Tensor[], grad_tensors?: readonly Tensor[], retain_graph = false): void {
  native.backward(
    outputs.map((t) => t.handle),
    grad_tensors?.map((t) => t.handle),
    retain_graph,
  );
}

// ---- process settings ----

export function manual_seed(seed: number): void {
  native.manualSeed(seed);
}

/** Intra-op threads for CPU kernels. */
export function set_num_threads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`set_num_threads: ${n} is not a positive integer`);
  native.setNumThreads(n);
}
export function get_num_threads(): number {
  return native.getNumThreads();
}

export const cuda = {
  is_available: (): boolean => native.cudaDeviceCount() > 0,
  device_count: (): number => native.cudaDeviceCount(),
  /** Waits for the queued kernels of the current device (a no-op without CUDA): time GPU work after it. */
  synchronize: (): void => {
    if (native.cudaDeviceCount() > 0) native.cudaSynchronize();
  },
  /** TF32 for float32 matmuls and convolutions on Ampere and newer GPUs (libtorch's default: convolutions
   *  yes, matmuls no). About 1e-3 relative error: turn it off to compare with float32 references. */
  allow_tf32: (flag: boolean): void => native.setAllowTF32(flag),
};

/** CUDA when the linked libtorch sees a GPU, else the CPU: where mmfd trains and segments unless told otherwise. */
export function best_device(): Device {
  return cuda.is_available() ? 'cuda' : 'cpu';
}

/** The libtorch version this addon is linked to. */
export function libtorch_version(): string {
  return native.version();
}

/** Live native tensors and their CPU bytes, for leak checks. */
export function memory_stats(): { tensors: number; bytes: number } {
  const { tensors, bytes } = native.liveStats();
  return { tensors, bytes };
}
