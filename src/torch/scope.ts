// Deterministic release of native memory. Every tensor created inside tidy(fn) is disposed when fn
// returns, except the tensors fn returns (handed to the enclosing scope) and those marked keep().
// Outside any scope a tensor lives until dispose() (or, as a fallback, garbage collection).

export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  kept: boolean;
  /** Called when the tensor leaves every scope: from now on only dispose() or the GC frees it. */
  unscoped(): void;
}

const scopes: Set<Disposable>[] = [];

/** Puts t in the innermost scope; false when there is none. */
export function track(t: Disposable): boolean {
  const top = scopes[scopes.length - 1];
  top?.add(t);
  return top !== undefined;
}

function collect(value: unknown, into: Set<Disposable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ('dispose' in value && 'kept' in value) {
    into.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
}

/** Runs fn and disposes every tensor it created that is neither returned nor kept. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) if (!t.kept) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('tidy(fn): fn must be synchronous (it returned a Promise)');
  const returned = new Set<Disposable>();
  collect(result, returned, new Set());
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) {
      if (parent) parent.add(t);
      else t.unscoped();
    } else if (!t.kept) t.dispose();
  }
  return result;
}

/** Disposes every tensor found in value (a tensor, or arrays/objects/maps of them). */
export function dispose(value: unknown): void {
  const found = new Set<Disposable>();
  collect(value, found, new Set());
  for (const t of found) t.dispose();
}

/**
 * x through fns in turn, disposing each intermediate once the next step has consumed it: PyTorch frees an
 * intermediate at its last use (refcount) where tidy() would hold every one until its scope ends, so a
 * forward's peak memory is two activations rather than all of them. x and the result are left alone; a
 * step that returns its input unchanged is fine. Autograd keeps what backward needs by its own reference.
 */
export function pipe<T extends Disposable>(x: T, ...fns: ((t: T) => T)[]): T {
  let cur = x;
  for (const fn of fns) {
    const next = fn(cur);
    if (cur !== x && next !== cur) cur.dispose();
    cur = next;
  }
  return cur;
}
