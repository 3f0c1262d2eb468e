// nn.Module: owns parameters, buffers and child modules, found by their field names, so that
// state_dict() keys are PyTorch's dotted attribute paths (`blocks.0.attn.qkv.weight`) exactly.

import { Derived } from '../derived.js';
import type { DType } from '../dtype.js';
import { no_grad } from '../ops.js';
import { type Device, opHandle, Tensor } from '../tensor.js';

/** A tensor a module trains: a leaf that requires grad (unless frozen), never disposed by tidy().
 *  It aliases `data`'s storage; build it inside tidy() so the source handle is released at once. */
export class Parameter extends Tensor {
  constructor(data: Tensor, requires_grad = true) {
    // A detached alias of data's storage: the caller may dispose `data` itself.
    super(opHandle('detach', data));
    this.keep();
    this.requires_grad_(requires_grad);
  }
}

export type StateDict = Map<string, Tensor>;

/** Called after a module's forward with its arguments and its output (PyTorch's register_forward_hook). */
export type ForwardHook = (module: Module, args: readonly unknown[], output: unknown) => void;

/** What register_forward_hook returns: remove() unregisters the hook. */
export interface RemovableHandle {
  remove(): void;
}

export interface LoadResult {
  missing_keys: string[];
  unexpected_keys: string[];
}

export abstract class Module {
  training = true;
  readonly #buffers = new Map<string, { tensor: Tensor; persistent: boolean }>();
  readonly #hooks = new Set<ForwardHook>();
  readonly #derived: Derived<readonly Tensor[]>[] = [];

  abstract forward(...args: never[]): unknown;

  /**
   * Calls `hook(module, args, output)` after every forward of this module until the handle's remove(), as
   * PyTorch's register_forward_hook. Callers call forward() directly (there is no __call__), so while a hook is
   * registered the instance's forward is a wrapper of its class's; removing the last hook restores it.
   */
  register_forward_hook(hook: ForwardHook): RemovableHandle {
    const hooks = this.#hooks;
    if (hooks.size === 0) {
      const forward = Object.getPrototypeOf(this).forward as (...args: unknown[]) => unknown;
      const wrapped = (...args: unknown[]): unknown => {
        const output = forward.apply(this, args);
        for (const h of [...hooks]) h(this, args, output);
        return output;
      };
      Object.defineProperty(this, 'forward', { value: wrapped, configurable: true, writable: true, enumerable: false });
    }
    hooks.add(hook);
    return {
      remove: () => {
        if (hooks.delete(hook) && hooks.size === 0) delete (this as { forward?: unknown }).forward;
      },
    };
  }

  /** Registers a buffer: state that is not trained (e.g. running statistics). Non-persistent
   *  buffers (constants) are left out of state_dict(), like PyTorch's persistent=False. */
  register_buffer(name: string, tensor: Tensor, persistent = true): Tensor {
    tensor.keep();
    this.#buffers.set(name, { tensor, persistent });
    return tensor;
  }

  named_children(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) out.push([k, v]);
    return out;
  }
  children(): Module[] {
    return this.named_children().map(([, m]) => m);
  }
  named_modules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.named_children()) out.push(...m.named_modules(prefix ? `${prefix}.${k}` : k));
    return out;
  }
  modules(): Module[] {
    return this.named_modules().map(([, m]) => m);
  }

  /** This module's own parameters, in the order their fields were set. */
  protected own_parameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) out.push([k, v]);
    return out;
  }

  named_parameters(prefix = '', recurse = true): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    const mods: [string, Module][] = recurse ? this.named_modules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, p] of m.own_parameters()) {
        if (seen.has(p)) continue; // shared parameters are listed once, as in PyTorch
        seen.add(p);
        out.push([mp ? `${mp}.${k}` : k, p]);
      }
    }
    return out;
  }
  parameters(recurse = true): Parameter[] {
    return this.named_parameters('', recurse).map(([, p]) => p);
  }

  named_buffers(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const mods: [string, Module][] = recurse ? this.named_modules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) for (const [k, b] of m.#buffers) out.push([mp ? `${mp}.${k}` : k, b.tensor]);
    return out;
  }
  buffers(recurse = true): Tensor[] {
    return this.named_buffers('', recurse).map(([, b]) => b);
  }

  /** Parameters and persistent buffers under PyTorch's keys and in PyTorch's order (per module: its
   *  parameters, then its buffers, then its children). The tensors are the module's own: do not dispose. */
  state_dict(prefix = ''): StateDict {
    const out: StateDict = new Map();
    for (const [k, p] of this.own_parameters()) out.set(prefix + k, p);
    for (const [k, b] of this.#buffers) if (b.persistent) out.set(prefix + k, b.tensor);
    for (const [k, m] of this.named_children()) for (const [kk, v] of m.state_dict(`${prefix}${k}.`)) out.set(kk, v);
    return out;
  }

  /** Copies values into the module's tensors by key. strict: any missing or unexpected key is an
   *  error listing them all. A shape mismatch is always an error naming the key and both shapes. */
  load_state_dict(source: StateDict | Record<string, Tensor>, strict = true): LoadResult {
    const src = source instanceof Map ? source : new Map(Object.entries(source));
    const own = this.state_dict();
    const missing_keys = [...own.keys()].filter((k) => !src.has(k));
    const unexpected_keys = [...src.keys()].filter((k) => !own.has(k));
    if (strict && (missing_keys.length || unexpected_keys.length)) {
      throw new Error(
        `Error(s) in loading state_dict for ${this.constructor.name}:` +
          (missing_keys.length ? `\n  Missing key(s): ${missing_keys.join(', ')}` : '') +
          (unexpected_keys.length ? `\n  Unexpected key(s): ${unexpected_keys.join(', ')}` : ''),
      );
    }
    for (const [k, target] of own) {
      const value = src.get(k);
      if (value === undefined) continue;
      const a = target.shape;
      const b = value.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        throw new Error(`load_state_dict: size mismatch for ${k}: checkpoint has [${b.join(', ')}], model has [${a.join(', ')}]`);
      }
    }
    no_grad(() => {
      for (const [k, target] of own) {
        const value = src.get(k);
        if (value !== undefined) target.copy_(value);
      }
    });
    return { missing_keys, unexpected_keys };
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Freezes (false) or unfreezes every parameter. */
  requires_grad_(flag = true): this {
    for (const p of this.parameters()) p.requires_grad_(flag);
    return this;
  }

  /** Clears every parameter's gradient (PyTorch's default set_to_none=True). */
  zero_grad(): void {
    for (const p of this.parameters()) p.grad = undefined;
  }

  /** Moves or casts every parameter and buffer in place (floating-point ones only for a dtype). */
  to(target: Device | DType): this {
    const isDevice = target === 'cpu' || target.startsWith('cuda');
    no_grad(() => {
      for (const t of [...this.parameters(), ...this.buffers()]) {
        if (!isDevice && !t.dtype.startsWith('float') && t.dtype !== 'bfloat16') continue;
        const moved = t.to(target as Device);
        t.set_data(moved);
        moved.dispose();
      }
    });
    return this;
  }

  apply(fn: (m: Module) => void): this {
    for (const m of this.modules()) fn(m);
    return this;
  }

  /** A cache of tensors computed from this module's own (see Derived), released by dispose(). */
  protected derived<T extends readonly Tensor[]>(): Derived<T> {
    const d = new Derived<T>();
    this.#derived.push(d);
    return d;
  }

  /** Releases every parameter's, buffer's and derived tensor's native memory; the module is unusable afterwards. */
  dispose(): void {
    for (const m of this.modules()) for (const d of m.#derived) d.dispose();
    for (const t of [...this.parameters(), ...this.buffers()]) t.dispose();
  }
}
