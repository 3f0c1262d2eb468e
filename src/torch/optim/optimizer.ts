// torch.optim.Optimizer: parameter groups with their hyperparameters, per-parameter state (step
// count and moment tensors), and a state_dict that splits into tensors (for safetensors) and
// JSON-able meta, so that a resumed run continues bit-identically.
import { enable_grad, no_grad } from '../ops.js';
import { tidy } from '../scope.js';
import { type Device, Tensor } from '../tensor.js';

/** Hyperparameters every group has. Schedulers set `lr`; `initial_lr` is the lr they started from. */
export interface GroupOptions {
  lr: number;
  initial_lr?: number;
}

/** One parameter group: its parameters plus its own copy of every hyperparameter. */
export type ParamGroup<H extends GroupOptions = GroupOptions> = H & { params: Tensor[] };

/** A group as given to a constructor: hyperparameters left out take the optimizer's defaults. */
export type ParamGroupInit<H extends GroupOptions = GroupOptions> = Partial<H> & { params: Iterable<Tensor> };

/** A parameter's optimizer state: how many updates it has had, and named tensors (exp_avg, ...). */
export interface ParamState {
  step: number;
  tensors: Map<string, Tensor>;
}

/** One parameter's part of a step: the parameter, its gradient and its state (step already incremented). */
export interface ParamUpdate {
  p: Tensor;
  grad: Tensor;
  state: ParamState;
}

export type JsonValue = number | string | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** The JSON part of an optimizer state_dict, shaped as PyTorch's (parameters by global index). */
export interface OptimizerMeta {
  state: Record<string, { step: number }>;
  param_groups: ({ params: number[] } & Record<string, JsonValue>)[];
}

/**
 * An optimizer's state: `tensors` under keys `state.<paramIndex>.<name>` (e.g. `state.0.exp_avg`),
 * where paramIndex counts the parameters of all groups in order, and `meta` (JSON-able).
 */
export interface OptimizerStateDict {
  tensors: Map<string, Tensor>;
  meta: OptimizerMeta;
}

/** defaults overridden by the options that are set (an explicit undefined keeps the default). */
export function withDefaults<H extends GroupOptions>(defaults: H, options: Partial<H>): H {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function isTensorList(x: readonly unknown[]): x is Tensor[] {
  return x.every((v) => v instanceof Tensor);
}

export abstract class Optimizer<H extends GroupOptions = GroupOptions> {
  readonly defaults: H;
  readonly param_groups: ParamGroup<H>[] = [];
  /** Per-parameter state, created on a parameter's first update. */
  readonly state = new Map<Tensor, ParamState>();

  /** params: tensors (one group with the defaults) or groups with their own hyperparameters. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInit<H>>, defaults: H) {
    this.defaults = defaults;
    const list = [...params] as (Tensor | ParamGroupInit<H>)[];
    if (list.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    if (isTensorList(list)) this.add_param_group({ params: list } as unknown as ParamGroupInit<H>);
    else if (list.some((v) => v instanceof Tensor)) throw new TypeError(`${this.constructor.name}: params mixes tensors and groups`);
    else for (const g of list as ParamGroupInit<H>[]) this.add_param_group(g);
  }

  /** Adds a group; hyperparameters it does not set take the defaults. A parameter may be in one group only. */
  add_param_group(group: ParamGroupInit<H>): void {
    const params = [...group.params];
    if (params.some((p) => !(p instanceof Tensor))) throw new TypeError('add_param_group: params must be tensors');
    const seen = new Set<Tensor>();
    for (const g of this.param_groups) for (const p of g.params) seen.add(p);
    for (const p of params) {
      if (seen.has(p)) throw new Error('add_param_group: some parameters appear in more than one parameter group');
      seen.add(p);
    }
    const merged = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(group)) if (k !== 'params' && v !== undefined) merged[k] = v;
    merged.params = params;
    const full = merged as unknown as ParamGroup<H>;
    this.validate(full);
    this.param_groups.push(full);
  }

  /** Throws on invalid hyperparameters (subclasses check their own). */
  protected validate(group: ParamGroup<H>): void {
    if (!(group.lr >= 0)) throw new RangeError(`Invalid learning rate: ${group.lr}`);
  }

  /** Named state tensors for a parameter's first update (created under no_grad, kept by step()). */
  protected abstract init_state(group: ParamGroup<H>, p: Tensor, grad: Tensor): Map<string, Tensor>;

  /** One parameter's update, in place, under no_grad inside a tidy scope; state.step is already incremented. */
  protected abstract update(group: ParamGroup<H>, p: Tensor, grad: Tensor, state: ParamState): void;

  /** A group's updates (same context as update()): one update() per parameter unless a subclass fuses them. */
  protected update_group(group: ParamGroup<H>, updates: ParamUpdate[]): void {
    for (const { p, grad, state } of updates) this.update(group, p, grad, state);
  }

  /** Clears the gradients: to undefined (PyTorch's default) or, set_to_none=false, to zeros in place. */
  zero_grad(set_to_none = true): void {
    for (const group of this.param_groups) {
      for (const p of group.params) {
        if (set_to_none) {
          p.grad = undefined;
          continue;
        }
        const g = p.grad;
        if (g !== undefined) no_grad(() => g.zero_());
      }
    }
  }

  /**
   * One update of every parameter that has a gradient (the others are skipped). closure, if given,
   * re-evaluates the model with gradients enabled and returns the loss, which step() returns.
   * Every temporary is disposed; the state tensors are kept.
   */
  step(closure?: () => number): number | undefined {
    const loss = closure === undefined ? undefined : enable_grad(closure);
    no_grad(() =>
      tidy(() => {
        for (const group of this.param_groups) {
          const updates: ParamUpdate[] = [];
          for (const p of group.params) {
            const grad = p.grad;
            if (grad === undefined) continue;
            let st = this.state.get(p);
            if (st === undefined) {
              const tensors = this.init_state(group, p, grad);
              for (const t of tensors.values()) t.keep();
              st = { step: 0, tensors };
              this.state.set(p, st);
            }
            st.step += 1;
            updates.push({ p, grad, state: st });
          }
          this.update_group(group, updates);
        }
      }),
    );
    return loss;
  }

  /** Stores `t` (kept) as a parameter's state tensor `name`, disposing the one it replaces. */
  protected set_state_tensor(state: ParamState, name: string, t: Tensor): Tensor {
    const old = state.tensors.get(name);
    t.keep();
    state.tensors.set(name, t);
    if (old !== undefined && old !== t) old.dispose();
    return t;
  }

  /** All parameters in group order; a parameter's index here is its index in the state_dict. */
  protected all_params(): Tensor[] {
    return this.param_groups.flatMap((g) => g.params);
  }

  /**
   * The optimizer's state. The tensors are the optimizer's own (do not dispose them, and save them
   * before the next step() if you need a snapshot); meta holds the hyperparameters and step counts.
   */
  state_dict(): OptimizerStateDict {
    const params = this.all_params();
    const tensors = new Map<string, Tensor>();
    const state: OptimizerMeta['state'] = {};
    params.forEach((p, i) => {
      const st = this.state.get(p);
      if (st === undefined) return;
      state[String(i)] = { step: st.step };
      for (const [name, t] of st.tensors) tensors.set(`state.${i}.${name}`, t);
    });
    let next = 0;
    const param_groups = this.param_groups.map((g) => {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') out[k] = structuredClone(v) as JsonValue;
      return { ...out, params: g.params.map(() => next++) };
    });
    return { tensors, meta: { state, param_groups } };
  }

  /**
   * Restores a state_dict (e.g. read back from safetensors + JSON). The groups must match this
   * optimizer's in number and size. Tensors are copied, cast to their parameter's dtype and device
   * (as PyTorch does), so the source may be disposed afterwards; hyperparameters come from meta.
   */
  load_state_dict(sd: OptimizerStateDict): void {
    const { meta, tensors } = sd;
    if (meta.param_groups.length !== this.param_groups.length) {
      throw new Error(
        `load_state_dict: state_dict has ${meta.param_groups.length} parameter groups, the optimizer ${this.param_groups.length}`,
      );
    }
    meta.param_groups.forEach((g, i) => {
      const own = this.param_groups[i] as ParamGroup<H>;
      if (g.params.length !== own.params.length) {
        throw new Error(
          `load_state_dict: group ${i} has ${g.params.length} parameters in the state_dict, ${own.params.length} in the optimizer`,
        );
      }
    });
    // Map the saved indices onto this optimizer's parameters, group by group.
    const byIndex = new Map<number, Tensor>();
    meta.param_groups.forEach((g, gi) => {
      const own = (this.param_groups[gi] as ParamGroup<H>).params;
      g.params.forEach((idx, j) => {
        byIndex.set(idx, own[j] as Tensor);
      });
    });
    const loaded = new Map<Tensor, ParamState>();
    const grouped = new Map<string, Map<string, Tensor>>();
    for (const [key, t] of tensors) {
      const m = /^state\.(\d+)\.(.+)$/.exec(key);
      if (m === null) throw new Error(`load_state_dict: unexpected tensor key '${key}'`);
      const [, idx, name] = m as unknown as [string, string, string];
      if (!(idx in meta.state)) throw new Error(`load_state_dict: tensor '${key}' has no state entry in meta`);
      let byName = grouped.get(idx);
      if (byName === undefined) {
        byName = new Map();
        grouped.set(idx, byName);
      }
      byName.set(name, t);
    }
    try {
      for (const [idx, { step }] of Object.entries(meta.state)) {
        const p = byIndex.get(Number(idx));
        if (p === undefined) throw new Error(`load_state_dict: state for parameter ${idx}, which no group lists`);
        const copies = new Map<string, Tensor>();
        loaded.set(p, { step, tensors: copies });
        for (const [name, t] of grouped.get(idx) ?? []) {
          const a = t.shape;
          const b = p.shape;
          if (a.length !== b.length || a.some((d, k) => d !== b[k])) {
            throw new Error(`load_state_dict: state.${idx}.${name} has shape [${a.join(', ')}], its parameter [${b.join(', ')}]`);
          }
          const dtype = t.dtype.startsWith('float') || t.dtype === 'bfloat16' ? p.dtype : t.dtype;
          copies.set(name, t.to({ dtype, device: p.device as Device }).keep());
        }
      }
    } catch (err) {
      for (const st of loaded.values()) for (const t of st.tensors.values()) t.dispose();
      throw err;
    }
    for (const st of this.state.values()) for (const t of st.tensors.values()) t.dispose();
    this.state.clear();
    for (const [p, st] of loaded) this.state.set(p, st);
    meta.param_groups.forEach((g, i) => {
      const own = this.param_groups[i] as ParamGroup<H>;
      const target = own as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(g)) if (k !== 'params') target[k] = structuredClone(v);
    });
  }

  /** Releases the state tensors (the parameters are the caller's). */
  dispose(): void {
    for (const st of this.state.values()) for (const t of st.tensors.values()) t.dispose();
    this.state.clear();
  }
}
