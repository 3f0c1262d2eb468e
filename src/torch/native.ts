// Loads the native addon (native/build/Release/mmfd_native.node) and describes what it exports.
// OpenSlide is a second addon (mmfd_openslide.node), loaded on the first use of `native.openslide`,
// so the engine runs where libopenslide is not installed. Nothing here validates arguments: the TS
// layer above does that.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque native object: a tensor or generator handle. */
export type Handle = object;

/** OpenSlide, bound thinly (native/src/openslide.cc); src/slides/io/openslide.ts is the API. */
export interface OpenSlideBinding {
  detectVendor(path: string): string | null;
  open(path: string): Handle;
  close(slide: Handle): void;
  levels(slide: Handle): [number, number, number][];
  properties(slide: Handle): Record<string, string | null>;
  readRegion(slide: Handle, x: number, y: number, level: number, w: number, h: number): Uint8Array;
  associatedImages(slide: Handle): Record<string, [number, number]>;
  readAssociatedImage(slide: Handle, name: string): Uint8Array;
  version(): string;
}

export interface NativeBinding {
  openslide: OpenSlideBinding;
  opLookup(name: string, overload: string): number;
  opSchema(id: number): string;
  call(id: number, ...args: unknown[]): unknown;
  callInPlace(id: number, ...args: unknown[]): void;
  dispose(h: Handle): void;
  /** Tells V8 the tensor's CPU bytes, so that GC pressure reflects tensors only GC will release. */
  accountForGc(h: Handle): void;
  liveStats(): { tensors: number; bytes: number; slots: number };
  fromBytes(bytes: Uint8Array, shape: number[], dtype: number, device: string): Handle;
  toBytes(h: Handle): ArrayBuffer;
  meta(h: Handle): [number, string, boolean, ...number[]];
  layout(h: Handle): [number, boolean, string, ...number[]];
  sameTensor(a: Handle, b: Handle): boolean;
  backward(outputs: Handle[], grads: Handle[] | undefined, retainGraph: boolean): void;
  grad(h: Handle, cached: Handle | undefined): Handle | undefined;
  setGrad(h: Handle, g: Handle | undefined): void;
  setRequiresGrad(h: Handle, flag: boolean): void;
  setData(h: Handle, source: Handle): void;
  isLeaf(h: Handle): boolean;
  /** libtorch's version counter: bumped by every in-place write and by setData. */
  tensorVersion(h: Handle): number;
  gradFnName(h: Handle): string | undefined;
  isGradEnabled(): boolean;
  setGradEnabled(flag: boolean): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  newGenerator(seed: number): Handle;
  generatorSeed(g: Handle, seed: number): void;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  setAllowTF32(flag: boolean): void;
  /** Bench-only hook on libtorch's autograd profiler (native/src/profiler.cc). */
  profilerStart(): void;
  /** Per op name (or "caller > name"): [name, calls, self us, total us]. */
  profilerStop(byParent: boolean): [string, number, number, number][];
  /** Adam update of a parameter group (native/src/optim.cc: the single-tensor ATen ops, one N-API call). */
  adamStep(
    params: Handle[],
    grads: Handle[],
    expAvgs: Handle[],
    expAvgSqs: Handle[],
    maxExpAvgSqs: Handle[] | undefined,
    scalars: [lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, stepSize: number, bias2Sqrt: number],
    flags: [decoupled: boolean, maximize: boolean],
  ): void;
  version(): string;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`mmfd: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

function addonFile(name: string): string {
  const file = join(packageRoot(), 'native', 'build', 'Release', `${name}.node`);
  if (!existsSync(file)) {
    throw new Error(
      `mmfd: the native addon is not built (${file} is missing). Run 'bash scripts/setup.sh' ` +
        `(installs libtorch-dev and OpenSlide and builds it) or 'npm run build:native'.`,
    );
  }
  return file;
}

let openslideAddon: OpenSlideBinding | undefined;

function loadOpenSlide(): OpenSlideBinding {
  if (openslideAddon === undefined) {
    const file = addonFile('mmfd_openslide');
    try {
      openslideAddon = createRequire(import.meta.url)(file) as OpenSlideBinding;
    } catch (err) {
      throw new Error(
        `mmfd: reading slides needs OpenSlide, and ${file} could not be loaded (${(err as Error).message}). ` +
          `Install it with 'apt-get install libopenslide0' (or run 'bash scripts/setup.sh').`,
      );
    }
  }
  return openslideAddon;
}

function load(): NativeBinding {
  const file = addonFile('mmfd_native');
  // libgomp (libtorch's and OpenBLAS's thread pool) spin-waits after each parallel region by default.
  // When the cores are shared (decode workers, other processes) that spinning starves everyone:
  // measured a TinyViT forward at 2-8 s instead of 0.35 s under load. Passive waiting removes it; it
  // must be set before libgomp loads, i.e. before the addon. A user's own setting wins.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  // OpenBLAS (Debian's libtorch links its pthreads build) keeps its own worker threads spinning with
  // sched_yield for 2^28 cycles (~0.1 s) after every threaded gemm, and a training step runs a gemm every
  // few ms: the spinner holds a core that libtorch's OpenMP kernels want (perf: sched_yield was ~6% of a
  // student step's CPU). 2^4 cycles makes the workers sleep at once; waking them costs a futex call per
  // threaded gemm. A user's own setting wins.
  process.env.OPENBLAS_THREAD_TIMEOUT ??= '4';
  const binding = createRequire(import.meta.url)(file) as NativeBinding;
  Object.defineProperty(binding, 'openslide', { get: loadOpenSlide, enumerable: true });
  return binding;
}

export const native: NativeBinding = load();
