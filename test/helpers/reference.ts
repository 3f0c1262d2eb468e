// Naive, obviously-correct reference implementations in plain TypeScript (float64 arithmetic, loops
// over indices) of the engine's operators, written from PyTorch's documented semantics. They are the
// independent side of the op parity tests: nothing here calls libtorch.

/** A dense C-contiguous array: shape plus row-major elements. */
export interface Arr {
  readonly shape: number[];
  readonly data: number[];
}

export type Pair = [number, number];

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function arr(shape: readonly number[], data: readonly number[]): Arr {
  if (numel(shape) !== data.length) throw new Error(`arr: ${data.length} elements do not fill [${shape.join(', ')}]`);
  return { shape: [...shape], data: [...data] };
}

export function scalar(v: number): Arr {
  return { shape: [], data: [v] };
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const n = shape[i] as number;
    idx[i] = flat % n;
    flat = Math.floor(flat / n);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * (shape[i] as number) + (idx[i] as number);
  return flat;
}

export function at(a: Arr, idx: readonly number[]): number {
  return a.data[ravel(idx, a.shape)] as number;
}

/** An array of the given shape whose element at each index is f(index). */
export function fromFn(shape: readonly number[], f: (idx: number[]) => number): Arr {
  const n = numel(shape);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) data[i] = f(unravel(i, shape));
  return { shape: [...shape], data };
}

export function normDim(d: number, ndim: number): number {
  const r = d < 0 ? d + ndim : d;
  if (r < 0 || r >= ndim) throw new Error(`dim ${d} out of range for ${ndim} dims`);
  return r;
}

const g = (xs: readonly number[], i: number): number => xs[i] as number;

// ---- elementwise with broadcasting -------------------------------------------------------------

export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const nd = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = nd - s.length + i;
      const d = s[i] as number;
      if (d !== 1) {
        if (out[o] !== 1 && out[o] !== d) throw new Error(`shapes [${shapes.map((x) => x.join(',')).join('] [')}] do not broadcast`);
        out[o] = d;
      }
    }
  }
  return out;
}

/** The element of `a` that broadcasts to output index `idx`. */
export function bget(a: Arr, idx: readonly number[]): number {
  const off = idx.length - a.shape.length;
  let flat = 0;
  for (let i = 0; i < a.shape.length; i++) {
    const d = a.shape[i] as number;
    flat = flat * d + (d === 1 ? 0 : (idx[off + i] as number));
  }
  return a.data[flat] as number;
}

export function map(a: Arr, f: (x: number) => number): Arr {
  return { shape: [...a.shape], data: a.data.map((x) => f(x)) };
}

export function zip(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  return fromFn(broadcastShapes(a.shape, b.shape), (i) => f(bget(a, i), bget(b, i)));
}

export function zip3(a: Arr, b: Arr, c: Arr, f: (x: number, y: number, z: number) => number): Arr {
  return fromFn(broadcastShapes(a.shape, b.shape, c.shape), (i) => f(bget(a, i), bget(b, i), bget(c, i)));
}

/** Broadcasts a to shape (as Tensor.expand). */
export function expand(a: Arr, shape: readonly number[]): Arr {
  const target = shape.map((d, i) => (d === -1 ? (a.shape[i - (shape.length - a.shape.length)] as number) : d));
  return fromFn(target, (i) => bget(a, i));
}

// ---- scalar functions --------------------------------------------------------------------------

/** erf(x) to ~1e-15: Maclaurin series for |x| < 2.5, Lentz continued fraction for erfc beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...)))))
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = a + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = a + an / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const relu = (x: number): number => Math.max(x, 0);
export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
export const silu = (x: number): number => x * sigmoid(x);
/** log(1 + exp(z)) without overflow. */
export const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

/** Round half to even, as torch.round. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Python-style remainder: the result has the divisor's sign. */
export const remainder = (a: number, b: number): number => a - b * Math.floor(a / b);

// ---- reductions --------------------------------------------------------------------------------

/**
 * Reduces a over dims (all dims when undefined) with f, which gets the reduced elements in
 * row-major order of the reduced dims.
 */
export function reduce(a: Arr, dims: readonly number[] | undefined, keepdim: boolean, f: (vals: number[]) => number): Arr {
  const nd = a.shape.length;
  const red = new Set((dims ?? a.shape.map((_, i) => i)).map((d) => normDim(d, nd)));
  const keptShape = a.shape.map((d, i) => (red.has(i) ? 1 : d));
  const redDims = [...red].sort((x, y) => x - y);
  const redShape = redDims.map((d) => a.shape[d] as number);
  const out = fromFn(keptShape, (idx) => {
    const vals: number[] = [];
    const full = [...idx];
    for (let k = 0; k < numel(redShape); k++) {
      const r = unravel(k, redShape);
      redDims.forEach((d, j) => {
        full[d] = r[j] as number;
      });
      vals.push(at(a, full));
    }
    return f(vals);
  });
  return keepdim ? out : { shape: a.shape.filter((_, i) => !red.has(i)), data: out.data };
}

export const sumOf = (v: readonly number[]): number => v.reduce((s, x) => s + x, 0);
export const meanOf = (v: readonly number[]): number => sumOf(v) / v.length;
export function varOf(v: readonly number[], correction: number): number {
  const m = meanOf(v);
  return sumOf(v.map((x) => (x - m) ** 2)) / (v.length - correction);
}
/** Index of the first maximum (PyTorch picks the first on ties for max.dim / argmax). */
export function argmaxOf(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (g(v, i) > g(v, best)) best = i;
  return best;
}
export function argminOf(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (g(v, i) < g(v, best)) best = i;
  return best;
}

export function cumsum(a: Arr, dim: number): Arr {
  const d = normDim(dim, a.shape.length);
  return fromFn(a.shape, (idx) => {
    let s = 0;
    const j = [...idx];
    for (let k = 0; k <= (idx[d] as number); k++) {
      j[d] = k;
      s += at(a, j);
    }
    return s;
  });
}

// ---- linear algebra ----------------------------------------------------------------------------

/** torch.matmul, including 1-D operands and broadcast batch dims. */
export function matmul(a: Arr, b: Arr): Arr {
  const a2 = a.shape.length === 1 ? { shape: [1, ...a.shape], data: a.data } : a;
  const b2 = b.shape.length === 1 ? { shape: [...b.shape, 1], data: b.data } : b;
  const [n, k] = a2.shape.slice(-2) as [number, number];
  const [k2, m] = b2.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error('matmul: inner dims differ');
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const aB: Arr = { shape: [...a2.shape.slice(0, -2), 1, 1], data: [] };
  const bB: Arr = { shape: [...b2.shape.slice(0, -2), 1, 1], data: [] };
  const out = fromFn([...batch, n, m], (idx) => {
    const bi = idx.slice(0, -2);
    const i = idx[idx.length - 2] as number;
    const j = idx[idx.length - 1] as number;
    // flat batch offsets by broadcasting (shape with trailing 1s to reuse bget's index logic)
    const ao = batchOffset(aB.shape, bi) * n * k;
    const bo = batchOffset(bB.shape, bi) * k * m;
    let s = 0;
    for (let t = 0; t < k; t++) s += g(a2.data, ao + i * k + t) * g(b2.data, bo + t * m + j);
    return s;
  });
  let shape = out.shape;
  if (a.shape.length === 1) shape = [...shape.slice(0, -2), shape[shape.length - 1] as number];
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  return { shape, data: out.data };
}

function batchOffset(shapeWithTail: readonly number[], batchIdx: readonly number[]): number {
  const bs = shapeWithTail.slice(0, -2);
  const off = batchIdx.length - bs.length;
  let flat = 0;
  for (let i = 0; i < bs.length; i++) {
    const d = bs[i] as number;
    flat = flat * d + (d === 1 ? 0 : (batchIdx[off + i] as number));
  }
  return flat;
}

/** x @ w^T + b over the last dim, as F.linear. */
export function linear(x: Arr, w: Arr, b?: Arr): Arr {
  const [o, i] = w.shape as [number, number];
  return fromFn([...x.shape.slice(0, -1), o], (idx) => {
    const row = ravel(idx.slice(0, -1), x.shape.slice(0, -1)) * i;
    const oi = idx[idx.length - 1] as number;
    let s = b ? g(b.data, oi) : 0;
    for (let t = 0; t < i; t++) s += g(x.data, row + t) * g(w.data, oi * i + t);
    return s;
  });
}

export function transpose(a: Arr, d0: number, d1: number): Arr {
  const nd = a.shape.length;
  const p = a.shape.map((_, i) => i);
  const x = normDim(d0, nd);
  const y = normDim(d1, nd);
  [p[x], p[y]] = [p[y] as number, p[x] as number];
  return permute(a, p);
}

export function permute(a: Arr, dims: readonly number[]): Arr {
  const nd = a.shape.length;
  const p = dims.map((d) => normDim(d, nd));
  return fromFn(
    p.map((d) => a.shape[d] as number),
    (idx) => {
      const src = new Array<number>(nd);
      p.forEach((d, i) => {
        src[d] = idx[i] as number;
      });
      return at(a, src);
    },
  );
}

// ---- convolution and pooling -------------------------------------------------------------------

export interface ConvOpts {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** F.conv2d: out[n, co, oh, ow] = b[co] + sum over the group's ci, kh, kw of x[n, ci, oh*s - p + kh*d, ...] * w[co, ci', kh, kw]. */
export function conv2d(x: Arr, w: Arr, b: Arr | undefined, o: ConvOpts = {}): Arr {
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const groups = o.groups ?? 1;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Co, Cg, KH, KW] = w.shape as [number, number, number, number];
  if (Cg * groups !== C) throw new Error('conv2d: channels do not match groups');
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  const coPerGroup = Co / groups;
  return fromFn([N, Co, OH, OW], ([n, co, oh, ow]) => {
    const grp = Math.floor((co as number) / coPerGroup);
    let s = b ? g(b.data, co as number) : 0;
    for (let ci = 0; ci < Cg; ci++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = (oh as number) * sh - ph + kh * dh;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = (ow as number) * sw - pw + kw * dw;
          if (iw < 0 || iw >= W) continue;
          s += at(x, [n as number, grp * Cg + ci, ih, iw]) * at(w, [co as number, ci, kh, kw]);
        }
      }
    }
    return s;
  });
}

/**
 * F.conv_transpose2d (the adjoint of conv2d): each input pixel x[n, ci, ih, iw] scatters
 * x * w[ci, oc, kh, kw] to out[n, grp*Cog + oc, ih*s - p + kh*d, iw*s - p + kw*d].
 */
export function convTranspose2d(x: Arr, w: Arr, b: Arr | undefined, o: ConvOpts & { outputPadding?: Pair } = {}): Arr {
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const [oph, opw] = o.outputPadding ?? [0, 0];
  const groups = o.groups ?? 1;
  const [N, Ci, H, W] = x.shape as [number, number, number, number];
  const [Ci2, Cog, KH, KW] = w.shape as [number, number, number, number];
  if (Ci2 !== Ci) throw new Error('conv_transpose2d: weight in-channels differ');
  const Co = Cog * groups;
  const Cig = Ci / groups;
  const OH = (H - 1) * sh - 2 * ph + dh * (KH - 1) + oph + 1;
  const OW = (W - 1) * sw - 2 * pw + dw * (KW - 1) + opw + 1;
  const out = new Array<number>(N * Co * OH * OW).fill(0);
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < Ci; ci++) {
      const grp = Math.floor(ci / Cig);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const v = at(x, [n, ci, ih, iw]);
          for (let oc = 0; oc < Cog; oc++)
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * sh - ph + kh * dh;
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * sw - pw + kw * dw;
                if (ow < 0 || ow >= OW) continue;
                const f = ((n * Co + grp * Cog + oc) * OH + oh) * OW + ow;
                out[f] = g(out, f) + v * at(w, [ci, oc, kh, kw]);
              }
            }
        }
    }
  const res = { shape: [N, Co, OH, OW], data: out };
  return b ? fromFn(res.shape, (i) => at(res, i) + g(b.data, i[1] as number)) : res;
}

/** Output length of a pooling window sweep, PyTorch's rule (ceil_mode drops a window that starts in the right padding). */
export function poolOutSize(inSize: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = inSize + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= inSize + p) out--;
  return out;
}

export interface PoolOpts {
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

/** F.max_pool2d: the max over each window's positions inside the input (padding counts as -inf). */
export function maxPool2d(x: Arr, o: PoolOpts): Arr {
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.stride ?? o.kernel;
  const [ph, pw] = o.padding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = poolOutSize(H, kh, sh, ph, dh, o.ceilMode ?? false);
  const OW = poolOutSize(W, kw, sw, pw, dw, o.ceilMode ?? false);
  return fromFn([N, C, OH, OW], ([n, c, oh, ow]) => {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) {
        const ih = (oh as number) * sh - ph + i * dh;
        const iw = (ow as number) * sw - pw + j * dw;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W) m = Math.max(m, at(x, [n as number, c as number, ih, iw]));
      }
    return m;
  });
}

/**
 * F.avg_pool2d: the window sum over the divisor. count_include_pad divides by the window's extent
 * clipped to the padded input; otherwise by the number of real input positions in it.
 */
export function avgPool2d(x: Arr, o: PoolOpts): Arr {
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.stride ?? o.kernel;
  const [ph, pw] = o.padding ?? [0, 0];
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = poolOutSize(H, kh, sh, ph, 1, o.ceilMode ?? false);
  const OW = poolOutSize(W, kw, sw, pw, 1, o.ceilMode ?? false);
  return fromFn([N, C, OH, OW], ([n, c, oh, ow]) => {
    let h0 = (oh as number) * sh - ph;
    let w0 = (ow as number) * sw - pw;
    let h1 = Math.min(h0 + kh, H + ph);
    let w1 = Math.min(w0 + kw, W + pw);
    const padded = (h1 - h0) * (w1 - w0);
    h0 = Math.max(h0, 0);
    w0 = Math.max(w0, 0);
    h1 = Math.min(h1, H);
    w1 = Math.min(w1, W);
    let s = 0;
    for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += at(x, [n as number, c as number, ih, iw]);
    return s / ((o.countIncludePad ?? true) ? padded : (h1 - h0) * (w1 - w0));
  });
}

/** F.adaptive_avg_pool2d: window i spans [floor(i*in/out), ceil((i+1)*in/out)). */
export function adaptiveAvgPool2d(x: Arr, [OH, OW]: Pair): Arr {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  return fromFn([N, C, OH, OW], ([n, c, oh, ow]) => {
    const h0 = Math.floor(((oh as number) * H) / OH);
    const h1 = Math.ceil(((oh as number) + 1) * (H / OH));
    const w0 = Math.floor(((ow as number) * W) / OW);
    const w1 = Math.ceil(((ow as number) + 1) * (W / OW));
    let s = 0;
    for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += at(x, [n as number, c as number, ih, iw]);
    return s / ((h1 - h0) * (w1 - w0));
  });
}

/** F.unfold (im2col): [N, C*kh*kw, L], rows ordered (c, i, j), columns the output positions row-major. */
export function unfold(x: Arr, kernel: Pair, o: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Arr {
  const [kh, kw] = kernel;
  const [dh, dw] = o.dilation ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [sh, sw] = o.stride ?? [1, 1];
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  return fromFn([N, C * kh * kw, OH * OW], ([n, r, l]) => {
    const c = Math.floor((r as number) / (kh * kw));
    const i = Math.floor(((r as number) % (kh * kw)) / kw);
    const j = (r as number) % kw;
    const ih = Math.floor((l as number) / OW) * sh - ph + i * dh;
    const iw = ((l as number) % OW) * sw - pw + j * dw;
    return ih >= 0 && ih < H && iw >= 0 && iw < W ? at(x, [n as number, c, ih, iw]) : 0;
  });
}

/** F.pixel_shuffle: out[n, c, h*r + i, w*r + j] = in[n, c*r*r + i*r + j, h, w]. */
export function pixelShuffle(x: Arr, r: number): Arr {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  return fromFn([N, C / (r * r), H * r, W * r], ([n, c, y, z]) => {
    const i = (y as number) % r;
    const j = (z as number) % r;
    return at(x, [n as number, (c as number) * r * r + i * r + j, Math.floor((y as number) / r), Math.floor((z as number) / r)]);
  });
}

// ---- normalisation and softmax -----------------------------------------------------------------

/** F.layer_norm over the trailing `normalized.length` dims, biased variance. */
export function layerNorm(x: Arr, normalized: readonly number[], w?: Arr, b?: Arr, eps = 1e-5): Arr {
  const inner = numel(normalized);
  const out = new Array<number>(x.data.length);
  for (let r = 0; r < x.data.length / inner; r++) {
    const v = x.data.slice(r * inner, (r + 1) * inner);
    const m = meanOf(v);
    const s = Math.sqrt(varOf(v, 0) + eps);
    for (let i = 0; i < inner; i++) {
      out[r * inner + i] = ((g(v, i) - m) / s) * (w ? g(w.data, i) : 1) + (b ? g(b.data, i) : 0);
    }
  }
  return { shape: [...x.shape], data: out };
}

/** F.group_norm over [N, C, *]: statistics per (sample, group of C/G channels), affine per channel. */
export function groupNorm(x: Arr, groups: number, w?: Arr, b?: Arr, eps = 1e-5): Arr {
  const [N, C] = x.shape as [number, number];
  const spatial = numel(x.shape.slice(2));
  const per = (C / groups) * spatial;
  const out = new Array<number>(x.data.length);
  for (let n = 0; n < N; n++)
    for (let gr = 0; gr < groups; gr++) {
      const base = (n * C + gr * (C / groups)) * spatial;
      const v = x.data.slice(base, base + per);
      const m = meanOf(v);
      const s = Math.sqrt(varOf(v, 0) + eps);
      for (let i = 0; i < per; i++) {
        const c = gr * (C / groups) + Math.floor(i / spatial);
        out[base + i] = ((g(v, i) - m) / s) * (w ? g(w.data, c) : 1) + (b ? g(b.data, c) : 0);
      }
    }
  return { shape: [...x.shape], data: out };
}

export interface BatchNormResult {
  out: Arr;
  runningMean?: Arr;
  runningVar?: Arr;
}

/**
 * F.batch_norm over [N, C, *]. Training: normalise with the batch mean and biased variance per
 * channel, and move the running stats: new = (1 - m) * old + m * batch (unbiased batch variance).
 * Eval: normalise with the running stats.
 */
export function batchNorm(
  x: Arr,
  runningMean: Arr | undefined,
  runningVar: Arr | undefined,
  w: Arr | undefined,
  b: Arr | undefined,
  training: boolean,
  momentum = 0.1,
  eps = 1e-5,
): BatchNormResult {
  const [N, C] = x.shape as [number, number];
  const spatial = numel(x.shape.slice(2));
  const chan = (c: number): number[] => {
    const v: number[] = [];
    for (let n = 0; n < N; n++) for (let s = 0; s < spatial; s++) v.push(g(x.data, (n * C + c) * spatial + s));
    return v;
  };
  const mean: number[] = [];
  const varB: number[] = [];
  const varU: number[] = [];
  for (let c = 0; c < C; c++) {
    const v = chan(c);
    mean.push(meanOf(v));
    varB.push(varOf(v, 0));
    varU.push(varOf(v, 1));
  }
  const useM = training ? mean : (runningMean as Arr).data;
  const useV = training ? varB : (runningVar as Arr).data;
  const out = fromFn(x.shape, (idx) => {
    const c = idx[1] as number;
    const y = (at(x, idx) - g(useM, c)) / Math.sqrt(g(useV, c) + eps);
    return y * (w ? g(w.data, c) : 1) + (b ? g(b.data, c) : 0);
  });
  if (!training) return { out };
  return {
    out,
    runningMean:
      runningMean &&
      arr(
        [C],
        runningMean.data.map((v, c) => (1 - momentum) * v + momentum * g(mean, c)),
      ),
    runningVar:
      runningVar &&
      arr(
        [C],
        runningVar.data.map((v, c) => (1 - momentum) * v + momentum * g(varU, c)),
      ),
  };
}

/** Applies f to every 1-D line of a along dim. */
export function alongDim(a: Arr, dim: number, f: (line: number[]) => number[]): Arr {
  const d = normDim(dim, a.shape.length);
  const n = a.shape[d] as number;
  const out = new Array<number>(a.data.length);
  const st = stridesOf(a.shape)[d] as number;
  for (let flat = 0; flat < a.data.length; flat++) {
    const idx = unravel(flat, a.shape);
    if (idx[d] !== 0) continue;
    const line = Array.from({ length: n }, (_, k) => g(a.data, flat + k * st));
    f(line).forEach((v, k) => {
      out[flat + k * st] = v;
    });
  }
  return { shape: [...a.shape], data: out };
}

export function softmax(a: Arr, dim: number): Arr {
  return alongDim(a, dim, (v) => {
    const m = Math.max(...v);
    const e = v.map((x) => Math.exp(x - m));
    const s = sumOf(e);
    return e.map((x) => x / s);
  });
}

export function logSoftmax(a: Arr, dim: number): Arr {
  return alongDim(a, dim, (v) => {
    const m = Math.max(...v);
    const lse = m + Math.log(sumOf(v.map((x) => Math.exp(x - m))));
    return v.map((x) => x - lse);
  });
}

// ---- resampling and padding --------------------------------------------------------------------

/**
 * F.interpolate(mode='bilinear') on [N, C, H, W]. align_corners=false: src = (dst + 0.5) * scale - 0.5
 * clamped at 0, scale = in/out (1/scale_factor when one is given). align_corners=true:
 * src = dst * (in - 1)/(out - 1) (0 when out is 1).
 */
export function bilinear(x: Arr, [OH, OW]: Pair, alignCorners: boolean, scaleFactor?: Pair): Arr {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const coord = (dst: number, inS: number, outS: number, sf: number | undefined): [number, number, number] => {
    let src: number;
    if (alignCorners) src = outS > 1 ? (dst * (inS - 1)) / (outS - 1) : 0;
    else {
      const scale = sf !== undefined ? 1 / sf : inS / outS;
      src = Math.max((dst + 0.5) * scale - 0.5, 0);
    }
    const i0 = Math.min(Math.floor(src), inS - 1);
    const i1 = Math.min(i0 + 1, inS - 1);
    return [i0, i1, src - i0];
  };
  return fromFn([N, C, OH, OW], ([n, c, oh, ow]) => {
    const [h0, h1, lh] = coord(oh as number, H, OH, scaleFactor?.[0]);
    const [w0, w1, lw] = coord(ow as number, W, OW, scaleFactor?.[1]);
    const v = (ih: number, iw: number): number => at(x, [n as number, c as number, ih, iw]);
    return (1 - lh) * ((1 - lw) * v(h0, w0) + lw * v(h0, w1)) + lh * ((1 - lw) * v(h1, w0) + lw * v(h1, w1));
  });
}

/** F.interpolate(mode='nearest') (PyTorch's legacy nearest): src = min(floor(dst * scale), in - 1), scale = in/out or 1/scale_factor. */
export function nearest(x: Arr, [OH, OW]: Pair, scaleFactor?: Pair): Arr {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const src = (dst: number, inS: number, outS: number, sf: number | undefined): number =>
    Math.min(Math.floor(dst * (sf !== undefined ? 1 / sf : inS / outS)), inS - 1);
  return fromFn([N, C, OH, OW], ([n, c, oh, ow]) =>
    at(x, [n as number, c as number, src(oh as number, H, OH, scaleFactor?.[0]), src(ow as number, W, OW, scaleFactor?.[1])]),
  );
}

/** F.pad(mode='constant'): pads (left, right) pairs from the last dim backwards; negative pads crop. */
export function pad(x: Arr, pads: readonly number[], value = 0): Arr {
  const nd = x.shape.length;
  const before = new Array<number>(nd).fill(0);
  const shape = [...x.shape];
  for (let k = 0; k < pads.length / 2; k++) {
    const d = nd - 1 - k;
    before[d] = g(pads, 2 * k);
    shape[d] = (shape[d] as number) + g(pads, 2 * k) + g(pads, 2 * k + 1);
  }
  return fromFn(shape, (idx) => {
    const src = idx.map((i, d) => i - g(before, d));
    return src.every((s, d) => s >= 0 && s < (x.shape[d] as number)) ? at(x, src) : value;
  });
}

// ---- shape and indexing ------------------------------------------------------------------------

export function reshape(a: Arr, shape: readonly number[]): Arr {
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  return arr(
    shape.map((d) => (d === -1 ? a.data.length / known : d)),
    a.data,
  );
}

/** a[..., start:end:step, ...] along dim, Python slice semantics for negative/clamped bounds. */
export function slice(a: Arr, dim: number, start = 0, end?: number, step = 1): Arr {
  const d = normDim(dim, a.shape.length);
  const n = a.shape[d] as number;
  const norm = (v: number): number => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = norm(start);
  const e = norm(end ?? n);
  const picks: number[] = [];
  for (let i = s; i < e; i += step) picks.push(i);
  return indexSelect(a, d, picks);
}

export function select(a: Arr, dim: number, index: number): Arr {
  const d = normDim(dim, a.shape.length);
  const n = a.shape[d] as number;
  const r = indexSelect(a, d, [index < 0 ? index + n : index]);
  return { shape: a.shape.filter((_, i) => i !== d), data: r.data };
}

export function indexSelect(a: Arr, dim: number, index: readonly number[]): Arr {
  const d = normDim(dim, a.shape.length);
  const shape = [...a.shape];
  shape[d] = index.length;
  return fromFn(shape, (idx) => {
    const src = [...idx];
    src[d] = g(index, idx[d] as number);
    return at(a, src);
  });
}

/** out[i][j][k] = a[index[i][j][k]][j][k] for dim 0 (and likewise for other dims). */
export function gather(a: Arr, dim: number, index: Arr): Arr {
  const d = normDim(dim, a.shape.length);
  return fromFn(index.shape, (idx) => {
    const src = [...idx];
    src[d] = at(index, idx);
    return at(a, src);
  });
}

/** a with out[..., index[i,j,k] (at dim), ...] = src[i,j,k] (or += with reduce 'add'). */
export function scatter(a: Arr, dim: number, index: Arr, src: Arr | number, reduceAdd = false): Arr {
  const d = normDim(dim, a.shape.length);
  const out = [...a.data];
  for (let flat = 0; flat < index.data.length; flat++) {
    const idx = unravel(flat, index.shape);
    const dst = [...idx];
    dst[d] = g(index.data, flat);
    const f = ravel(dst, a.shape);
    const v = typeof src === 'number' ? src : at(src, idx);
    out[f] = reduceAdd ? g(out, f) + v : v;
  }
  return { shape: [...a.shape], data: out };
}

export function cat(list: readonly Arr[], dim: number): Arr {
  const first = list[0] as Arr;
  const d = normDim(dim, first.shape.length);
  const shape = [...first.shape];
  shape[d] = sumOf(list.map((t) => t.shape[d] as number));
  return fromFn(shape, (idx) => {
    let i = idx[d] as number;
    for (const t of list) {
      const n = t.shape[d] as number;
      if (i < n) {
        const src = [...idx];
        src[d] = i;
        return at(t, src);
      }
      i -= n;
    }
    throw new Error('cat: index out of range');
  });
}

export function stack(list: readonly Arr[], dim: number): Arr {
  const first = list[0] as Arr;
  const d = normDim(dim, first.shape.length + 1);
  const shape = [...first.shape];
  shape.splice(d, 0, list.length);
  return fromFn(shape, (idx) => {
    const src = [...idx];
    const [k] = src.splice(d, 1);
    return at(list[k as number] as Arr, src);
  });
}

export function splitSizes(a: Arr, sizes: readonly number[], dim: number): Arr[] {
  const d = normDim(dim, a.shape.length);
  const out: Arr[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(slice(a, d, start, start + s));
    start += s;
  }
  return out;
}

/** torch.split with an int: chunks of split_size, the last one smaller. */
export function split(a: Arr, size: number, dim: number): Arr[] {
  const n = a.shape[normDim(dim, a.shape.length)] as number;
  const sizes: number[] = [];
  for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
  return splitSizes(a, sizes, dim);
}

/** torch.chunk: split with size ceil(n / chunks). */
export function chunk(a: Arr, chunks: number, dim: number): Arr[] {
  const n = a.shape[normDim(dim, a.shape.length)] as number;
  return split(a, Math.ceil(n / chunks), dim);
}

/** Tensor.repeat: tiles a; extra leading repeats add dims. */
export function repeat(a: Arr, reps: readonly number[]): Arr {
  const lead = reps.length - a.shape.length;
  const src: number[] = [...new Array<number>(lead).fill(1), ...a.shape];
  return fromFn(
    src.map((d, i) => d * g(reps, i)),
    (idx) =>
      at(
        a,
        idx.slice(lead).map((v, i) => v % (src[lead + i] as number)),
      ),
  );
}

export function flip(a: Arr, dims: readonly number[]): Arr {
  const ds = dims.map((d) => normDim(d, a.shape.length));
  return fromFn(a.shape, (idx) =>
    at(
      a,
      idx.map((v, i) => (ds.includes(i) ? (a.shape[i] as number) - 1 - v : v)),
    ),
  );
}

export function roll(a: Arr, shifts: readonly number[], dims: readonly number[]): Arr {
  const ds = dims.map((d) => normDim(d, a.shape.length));
  return fromFn(a.shape, (idx) =>
    at(
      a,
      idx.map((v, i) => {
        const k = ds.indexOf(i);
        if (k < 0) return v;
        const n = a.shape[i] as number;
        return (((v - g(shifts, k)) % n) + n) % n;
      }),
    ),
  );
}

// ---- losses ------------------------------------------------------------------------------------

export type Reduction = 'none' | 'mean' | 'sum';

function reduceLoss(l: Arr, reduction: Reduction): Arr {
  if (reduction === 'none') return l;
  const s = sumOf(l.data);
  return scalar(reduction === 'sum' ? s : s / l.data.length);
}

/**
 * binary_cross_entropy_with_logits by its definition:
 * l = -w * (pos_weight * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))),
 * pos_weight broadcast along the last (class) dim.
 */
export function bceWithLogits(x: Arr, y: Arr, o: { weight?: Arr; posWeight?: Arr; reduction?: Reduction } = {}): Arr {
  const l = fromFn(x.shape, (idx) => {
    const xv = at(x, idx);
    const yv = bget(y, idx);
    const logSig = -softplus(-xv);
    const logOneMinusSig = -softplus(xv);
    const pw = o.posWeight ? bget(o.posWeight, idx) : 1;
    const w = o.weight ? bget(o.weight, idx) : 1;
    return -w * (pw * yv * logSig + (1 - yv) * logOneMinusSig);
  });
  return reduceLoss(l, o.reduction ?? 'mean');
}

export function mseLoss(x: Arr, y: Arr, reduction: Reduction = 'mean'): Arr {
  return reduceLoss(
    zip(x, y, (a, b) => (a - b) ** 2),
    reduction,
  );
}

// ---- half-precision encodings ------------------------------------------------------------------

/** IEEE binary16 bits of a (float32-representable) number, round to nearest even. */
export function toFloat16Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00; // 65520 is halfway to 2^16: rounds to infinity
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24); // subnormal (1024 lands on the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

export function fromFloat16Bits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Number.POSITIVE_INFINITY : Number.NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32view = new DataView(new ArrayBuffer(4));

/** bfloat16 bits of a float32 value: the high 16 bits, rounded to nearest even. */
export function toBfloat16Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7fc0;
  f32view.setFloat32(0, v);
  const u = f32view.getUint32(0);
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBfloat16Bits(h: number): number {
  f32view.setUint32(0, (h << 16) >>> 0);
  return f32view.getFloat32(0);
}
