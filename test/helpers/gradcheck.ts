// The op parity harness. checkOp runs an engine op on small inputs and compares it with a plain-TS
// reference (test/helpers/reference.ts):
//   forward: float32 output vs the float64 reference, max abs error <= 1e-5 * max(1, max|ref|),
//            and the float64 output at 1e-9;
//   gradient: libtorch's autograd gradient of a random linear functional sum(w * op(x)), in float32
//            (<= 1e-5 scaled) and float64 (<= 1e-6 scaled), vs central differences of the same
//            functional of the *reference* in float64, so the expected gradient never comes from
//            libtorch; plus central differences through the engine in float64 vs its autograd
//            (the wiring of backward through the binding).
import assert from 'node:assert/strict';
import type { DType, Tensor } from '../../src/torch/index.js';
import * as torch from '../../src/torch/index.js';
import type { Rng } from './prng.js';
import { type Arr, numel } from './reference.js';

export type FloatDType = 'float32' | 'float64';

export interface InputSpec {
  shape: number[];
  data: number[];
  /** A fixed dtype (indices, masks); unset means the floating dtype under test. */
  dtype?: DType;
  /** Whether to check this input's gradient; default true for floating inputs. */
  grad?: boolean;
}

export function input(shape: number[], data: readonly number[], opts: { dtype?: DType; grad?: boolean } = {}): InputSpec {
  if (numel(shape) !== data.length) throw new Error(`input: ${data.length} values do not fill [${shape.join(', ')}]`);
  return { shape, data: [...data], ...opts };
}

export function randn(rng: Rng, shape: number[], opts: { grad?: boolean; std?: number } = {}): InputSpec {
  return input(shape, rng.normal(numel(shape), opts.std ?? 1), opts.grad === undefined ? {} : { grad: opts.grad });
}

export function uniform(rng: Rng, shape: number[], lo: number, hi: number, opts: { grad?: boolean } = {}): InputSpec {
  return input(shape, rng.uniform(numel(shape), lo, hi), opts);
}

/** Integer (int64 by default) data, never differentiated. */
export function ints(shape: number[], data: readonly number[], dtype: DType = 'int64'): InputSpec {
  return input(shape, data, { dtype, grad: false });
}

function isFloatSpec(s: InputSpec): boolean {
  return s.dtype === undefined || s.dtype === 'float32' || s.dtype === 'float64';
}

/** A tensor of the spec's data in its fixed dtype, or in `floatDtype` when it names none. */
export function makeTensor(spec: InputSpec, floatDtype: FloatDType = 'float32', requiresGrad = false): Tensor {
  const dtype = spec.dtype ?? floatDtype;
  const d = spec.data;
  const opts = { dtype, requires_grad: requiresGrad };
  switch (dtype) {
    case 'float32':
      return torch.fromTypedArray(Float32Array.from(d), spec.shape, opts);
    case 'float64':
      return torch.fromTypedArray(Float64Array.from(d), spec.shape, opts);
    case 'int64':
      return torch.fromTypedArray(
        BigInt64Array.from(d, (v) => BigInt(v)),
        spec.shape,
        opts,
      );
    case 'int32':
      return torch.fromTypedArray(Int32Array.from(d), spec.shape, opts);
    case 'int16':
      return torch.fromTypedArray(Int16Array.from(d), spec.shape, opts);
    case 'int8':
      return torch.fromTypedArray(Int8Array.from(d), spec.shape, opts);
    case 'uint8':
      return torch.fromTypedArray(Uint8Array.from(d), spec.shape, opts);
    case 'bool':
      return torch.fromTypedArray(
        Uint8Array.from(d, (v) => (v ? 1 : 0)),
        spec.shape,
        opts,
      );
    default:
      throw new Error(`makeTensor: no test inputs of dtype ${dtype}`);
  }
}

/** A float tensor (float32 by default) from shape and data. */
export function T(shape: number[], data: readonly number[], dtype: FloatDType = 'float32'): Tensor {
  return makeTensor(input(shape, data), dtype);
}

// ---- comparison --------------------------------------------------------------------------------

/** Largest |actual - expected| (NaN/Inf must match exactly: otherwise Infinity). */
export function maxAbsError(actual: readonly number[], expected: readonly number[]): { err: number; at: number } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    let err: number;
    if (Number.isNaN(e)) err = Number.isNaN(a) ? 0 : Number.POSITIVE_INFINITY;
    else if (!Number.isFinite(e)) err = a === e ? 0 : Number.POSITIVE_INFINITY;
    else err = Number.isNaN(a) ? Number.POSITIVE_INFINITY : Math.abs(a - e);
    if (err > worst || (at < 0 && err > 0)) {
      worst = err;
      at = i;
    }
  }
  return { err: worst, at };
}

/** Asserts max abs error <= tol * max(1, max |expected|) (a relative bound for large values). */
export function assertClose(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} elements, expected ${expected.length}`);
  let scale = 1;
  for (const e of expected) if (Number.isFinite(e)) scale = Math.max(scale, Math.abs(e));
  const limit = tol * scale;
  const { err, at } = maxAbsError(actual, expected);
  if (err > limit) {
    assert.fail(
      `${what}: max abs error ${err.toExponential(3)} > ${limit.toExponential(3)} at element ${at} ` +
        `(got ${actual[at]}, expected ${expected[at]})`,
    );
  }
}

/** Asserts a tensor's shape, dtype (if given) and values (max abs error <= tol * max(1, max|expected|); exact when 0). */
export function assertTensor(t: Tensor, shape: readonly number[], expected: readonly number[], tol = 1e-5, dtype?: DType): void {
  assert.deepEqual(t.shape, [...shape], `shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  if (dtype !== undefined) assert.equal(t.dtype, dtype);
  // exact: element-wise ===, so -0 equals 0 (and NaN equals NaN)
  const got = t.toArray();
  if (tol === 0)
    assert.deepEqual(
      got.map(Number).map((v) => (v === 0 ? 0 : v)),
      expected.map((v) => (v === 0 ? 0 : v)),
    );
  else assertClose(got, expected, tol, 'values');
}

// ---- op parity ---------------------------------------------------------------------------------

export interface OpCase {
  inputs: InputSpec[];
  /** The engine op; build any extra tensors in `dtype`. */
  run: (xs: Tensor[], dtype: FloatDType) => Tensor | Tensor[];
  /** The plain-TS reference on the same (float32-rounded) inputs. */
  ref: (xs: Arr[]) => Arr | Arr[];
  /** dtype of the outputs in the float32 run; default float32 for every output. */
  outDtype?: DType | DType[];
  /** float32 forward tolerance (default 1e-5); float64 forward (default 1e-9). */
  atol?: number;
  atol64?: number;
  /** Check gradients (default true when any input is differentiated). */
  grad?: boolean;
  /** float32 autograd vs reference (default 1e-5); float64 autograd vs reference and vs engine FD (default 1e-6). */
  gradAtol?: number;
  gradAtol64?: number;
  /** Also difference the engine itself in float64 (default true). */
  engineFd?: boolean;
  /** Finite-difference step (default 1e-6, times max(1, |x|)). */
  eps?: number;
  seed?: number;
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const isFloating = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Central differences of f with respect to every element of xs[which]. */
export function finiteDiff(f: (xs: Arr[]) => number, xs: Arr[], which: number, eps = 1e-6): number[] {
  const x = xs[which] as Arr;
  const grad: number[] = [];
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i] as number;
    const h = eps * Math.max(1, Math.abs(v));
    const at = (val: number): number => {
      const data = [...x.data];
      data[i] = val;
      const moved = xs.map((a, k) => (k === which ? { shape: a.shape, data } : a));
      return f(moved);
    };
    grad.push((at(v + h) - at(v - h)) / (2 * h));
  }
  return grad;
}

export function checkOp(c: OpCase): void {
  // Round float data to float32 once, so the float32 and float64 runs and the reference see the same values.
  const specs = c.inputs.map((s) => (isFloatSpec(s) ? { ...s, data: s.data.map((v) => Math.fround(v)) } : s));
  const xs: Arr[] = specs.map((s) => ({ shape: [...s.shape], data: [...s.data] }));
  const expected = asList(c.ref(xs));
  const outDtypes = c.outDtype === undefined ? expected.map(() => 'float32' as DType) : asList(c.outDtype);

  for (const dtype of ['float32', 'float64'] as const) {
    torch.tidy(() => {
      const ts = specs.map((s) => makeTensor(s, dtype));
      const outs = asList(c.run(ts, dtype));
      assert.equal(outs.length, expected.length, `forward ${dtype}: ${outs.length} outputs, expected ${expected.length}`);
      outs.forEach((o, k) => {
        const e = expected[k] as Arr;
        assert.deepEqual(o.shape, e.shape, `forward ${dtype} output ${k}: shape [${o.shape.join(', ')}], expected [${e.shape.join(', ')}]`);
        if (dtype === 'float32') assert.equal(o.dtype, outDtypes[k], `forward output ${k}: dtype`);
        const tol = dtype === 'float32' ? (c.atol ?? 1e-5) : (c.atol64 ?? 1e-9);
        assertClose(o.toArray(), e.data, tol, `forward ${dtype} output ${k}`);
      });
    });
  }

  const gradInputs = specs.map((s, i) => ((s.grad ?? isFloatSpec(s)) ? i : -1)).filter((i) => i >= 0);
  if (c.grad === false || gradInputs.length === 0) return;
  const floatOut = outDtypes.map(isFloating);
  if (!floatOut.some(Boolean)) return;

  // The linear functional L(x) = sum_k sum(w_k * out_k) over the floating outputs.
  let state = (c.seed ?? 0x5eed) >>> 0;
  const nextW = (): number => {
    // A tiny LCG is enough for weights; they only need to be generic.
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround(state / 4294967296 - 0.5) * 2;
  };
  const ws = expected.map((e) => e.data.map(() => nextW()));
  const lossRef = (a: Arr[]): number => asList(c.ref(a)).reduce((s, o, k) => (floatOut[k] ? s + dot(ws[k] as number[], o.data) : s), 0);
  const eps = c.eps ?? 1e-6;
  const refGrads = gradInputs.map((i) => finiteDiff(lossRef, xs, i, eps));

  const engineLoss = (ts: Tensor[], dtype: FloatDType): Tensor => {
    const outs = asList(c.run(ts, dtype));
    let loss: Tensor | undefined;
    outs.forEach((o, k) => {
      if (!floatOut[k]) return;
      const w = makeTensor(input(o.shape, ws[k] as number[]), dtype);
      const term = o.mul(w).sum();
      loss = loss === undefined ? term : loss.add(term);
    });
    return loss as Tensor;
  };

  for (const dtype of ['float32', 'float64'] as const) {
    torch.tidy(() => {
      const ts = specs.map((s, i) => makeTensor(s, dtype, gradInputs.includes(i)));
      engineLoss(ts, dtype).backward();
      const auto: number[][] = [];
      gradInputs.forEach((i, j) => {
        const gr = (ts[i] as Tensor).grad;
        assert.ok(gr !== undefined, `${dtype}: input ${i} got no gradient`);
        assert.deepEqual(gr.shape, specs[i]?.shape, `${dtype}: gradient ${i} shape`);
        const got = gr.toArray();
        auto.push(got);
        const tol = dtype === 'float32' ? (c.gradAtol ?? 1e-5) : (c.gradAtol64 ?? 1e-6);
        assertClose(got, refGrads[j] as number[], tol, `${dtype} autograd gradient of input ${i} vs reference finite differences`);
      });
      if (dtype === 'float64' && c.engineFd !== false) {
        const f = (a: Arr[]): number =>
          torch.no_grad(() =>
            torch.tidy(() =>
              engineLoss(
                a.map((x, k) => makeTensor({ ...(specs[k] as InputSpec), data: x.data }, 'float64')),
                'float64',
              ).item(),
            ),
          );
        gradInputs.forEach((i, j) => {
          const fd = finiteDiff(f, xs, i, eps);
          assertClose(
            auto[j] as number[],
            fd,
            c.gradAtol64 ?? 1e-6,
            `float64 autograd gradient of input ${i} vs engine finite differences`,
          );
        });
      }
    });
  }
}
