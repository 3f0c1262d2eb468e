// Parity tracing by forward hooks (PyTorch's register_forward_hook), so that forwards carry no tracing code:
// intermediates named by module path are recorded while a function runs, then compared one by one against the
// reference fixtures to find the first place two implementations diverge. A key names what to record:
//   `blocks.3`          the output of module blocks.3 (its first call)
//   `transformer@1`     its output on the second call (a refinement loop calls a module once per pass)
//   `neck.0:in`         its first argument; `:in1` the second, and so on
//   `blocks.0.2.x`      a part of an output that is an array or an object (element 2, field x)
import type { Module } from '../torch/nn/module.js';
import { Tensor } from '../torch/tensor.js';

/**
 * Runs fn with the modules that `names` (name -> key) point into hooked; returns its result and a copy of each
 * named intermediate (the caller disposes them). A name whose key was never produced is left out, so the
 * fixture check reports it missing; a key naming no module is an error.
 */
export function traceModules<T>(root: Module, names: Record<string, string>, fn: () => T): { result: T; traced: Map<string, Tensor> } {
  const modules = new Map(root.named_modules());
  const hooked = new Map<string, Set<number>>(); // module path -> the arguments to record
  for (const key of Object.values(names)) {
    const { path, input } = moduleOf(key, modules);
    const inputs = hooked.get(path) ?? new Set<number>();
    if (input !== undefined) inputs.add(input);
    hooked.set(path, inputs);
  }
  const wanted = new Set(Object.values(names));
  const recorded = new Map<string, Tensor>();
  const record = (key: string, value: unknown): void => {
    if (value instanceof Tensor) {
      if (wanted.has(key)) recorded.set(key, value.detach().clone().keep());
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) record(`${key}.${k}`, v); // an array's elements, an object's fields
    }
  };
  const handles = [...hooked].map(([path, inputs]) => {
    let calls = 0;
    return modules.get(path)!.register_forward_hook((_, args, output) => {
      const at = calls === 0 ? path : `${path}@${calls}`;
      calls++;
      for (const k of inputs) record(`${at}:in${k === 0 ? '' : k}`, args[k]);
      record(at, output);
    });
  });
  let result: T;
  try {
    result = fn();
  } finally {
    for (const h of handles) h.remove();
  }
  const traced = new Map<string, Tensor>();
  const used = new Set<Tensor>();
  for (const [name, key] of Object.entries(names)) {
    const t = recorded.get(key);
    if (t === undefined) continue;
    traced.set(name, used.has(t) ? t.clone().keep() : t); // two names for one intermediate get a tensor each
    used.add(t);
  }
  return { result, traced };
}

/** The module a key records from (the longest module path it starts with) and the argument it asks for. */
function moduleOf(key: string, modules: Map<string, Module>): { path: string; input?: number } {
  const colon = key.indexOf(':');
  const head = (colon === -1 ? key : key.slice(0, colon)).replace(/@\d+$|@\d+(?=\.)/, '');
  let input: number | undefined;
  if (colon !== -1) {
    const port = /^in(\d*)$/.exec(key.slice(colon + 1).split('.')[0] ?? '');
    if (port === null) throw new Error(`trace: bad key '${key}' (path:in<k> records the k-th argument)`);
    input = Number(port[1] || 0);
  }
  const parts = head === '' ? [] : head.split('.');
  for (let n = parts.length; n > 0; n--) {
    const path = parts.slice(0, n).join('.');
    if (modules.has(path)) return { path, input };
  }
  if (head === '' || colon === 0) return { path: '', input };
  throw new Error(`trace: no module of the model is named by '${key}'`);
}
