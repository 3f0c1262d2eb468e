// Iteration-based learning-rate schedules. Each sets its groups' lr from a pure function of the
// iteration (lr_at), so a run resumed from state_dict() gets exactly the lrs it would have had.
import type { GroupOptions } from './optimizer.js';

/** What a scheduler needs of an optimizer: its groups' learning rates. */
export interface HasParamGroups {
  param_groups: GroupOptions[];
}

export interface SchedulerState {
  last_iter: number;
  base_lrs: number[];
}

/**
 * Base class, as PyTorch's LRScheduler with iterations for epochs: construction records each
 * group's initial_lr (the base lr) and applies lr_at(last_iter + 1), i.e. lr_at(0) for a fresh run;
 * each step() (call it after optimizer.step()) advances one iteration and applies lr_at(last_iter).
 * A subclass sets its own fields and then calls start() at the end of its constructor.
 */
export abstract class LRScheduler {
  readonly optimizer: HasParamGroups;
  base_lrs: number[];
  /** The iteration whose lr the groups hold (PyTorch's last_epoch). */
  last_iter: number;

  /** last_iter = -1 starts afresh; otherwise the groups must already have initial_lr (a resumed run). */
  constructor(optimizer: HasParamGroups, last_iter = -1) {
    this.optimizer = optimizer;
    if (last_iter === -1) {
      for (const g of optimizer.param_groups) g.initial_lr = g.lr;
    } else if (optimizer.param_groups.some((g) => g.initial_lr === undefined)) {
      throw new Error(`${this.constructor.name}: last_iter ${last_iter} given but a param group has no initial_lr`);
    }
    this.base_lrs = optimizer.param_groups.map((g) => g.initial_lr as number);
    this.last_iter = last_iter;
  }

  /** Applies the first lr; subclasses call it last in their constructor, once lr_at can run. */
  protected start(): void {
    this.step();
  }

  /** The lr of group `group` at iteration iter: a pure function of iter and the base lrs. */
  abstract lr_at(iter: number, group?: number): number;

  /** Every group's lr at iteration iter. */
  lrs_at(iter: number): number[] {
    return this.base_lrs.map((_, i) => this.lr_at(iter, i));
  }

  /** Advances one iteration and sets the groups' lr. */
  step(): void {
    this.last_iter += 1;
    this.apply();
  }

  /** The lrs the groups were last given. */
  get_last_lr(): number[] {
    return this.lrs_at(this.last_iter);
  }

  protected base_lr(group: number): number {
    const b = this.base_lrs[group];
    if (b === undefined) throw new RangeError(`${this.constructor.name}: no param group ${group} (${this.base_lrs.length} groups)`);
    return b;
  }

  protected apply(): void {
    const lrs = this.lrs_at(this.last_iter);
    this.optimizer.param_groups.forEach((g, i) => {
      g.lr = lrs[i] as number;
    });
  }

  /** JSON-able state. */
  state_dict(): SchedulerState {
    return { last_iter: this.last_iter, base_lrs: [...this.base_lrs] };
  }

  /** Restores the iteration and base lrs (also as the groups' initial_lr) and sets the groups' lr to lr_at(last_iter). */
  load_state_dict(sd: SchedulerState): void {
    if (sd.base_lrs.length !== this.optimizer.param_groups.length) {
      throw new Error(`load_state_dict: ${sd.base_lrs.length} base lrs for ${this.optimizer.param_groups.length} param groups`);
    }
    this.last_iter = sd.last_iter;
    this.base_lrs = [...sd.base_lrs];
    this.optimizer.param_groups.forEach((g, i) => {
      g.initial_lr = this.base_lrs[i] as number;
    });
    this.apply();
  }
}

/** lr = base_lr * lr_lambda(iter), one lambda for all groups or one per group (torch.optim.lr_scheduler.LambdaLR). */
export class LambdaLR extends LRScheduler {
  readonly lr_lambdas: ((iter: number) => number)[];

  constructor(optimizer: HasParamGroups, lr_lambda: ((iter: number) => number) | ((iter: number) => number)[], last_iter = -1) {
    const n = optimizer.param_groups.length;
    const lambdas = Array.isArray(lr_lambda) ? [...lr_lambda] : Array.from({ length: n }, () => lr_lambda);
    if (lambdas.length !== n) throw new Error(`LambdaLR: expected ${n} lr_lambdas, got ${lambdas.length}`);
    super(optimizer, last_iter);
    this.lr_lambdas = lambdas;
    this.start();
  }

  lr_at(iter: number, group = 0): number {
    const f = this.lr_lambdas[group];
    if (f === undefined) throw new RangeError(`LambdaLR: no param group ${group}`);
    return this.base_lr(group) * f(iter);
  }
}

export interface WarmupCosineOptions {
  /** Iterations of linear warm-up (0: none). */
  warmup_iters: number;
  /** The iteration at which the cosine reaches min_lr; the lr stays min_lr afterwards. */
  max_iters: number;
  /** The final lr (default 0). */
  min_lr?: number;
}

/**
 * Linear warm-up then cosine annealing. With base lr B (each group's initial lr), W = warmup_iters,
 * M = max_iters (W <= M) and m = min_lr, the lr at iteration i is
 *
 *   i < W:       B * (i + 1) / (W + 1)                                   (rises from B/(W+1) towards B)
 *   W <= i < M:  m + (B - m) * (1 + cos(pi * (i - W) / (M - W))) / 2     (B at i = W, falling to m)
 *   i >= M:      m
 *
 * so it is monotone up to W, monotone down after, and continuous at M.
 */
export class WarmupCosine extends LRScheduler {
  readonly warmup_iters: number;
  readonly max_iters: number;
  readonly min_lr: number;

  constructor(optimizer: HasParamGroups, options: WarmupCosineOptions, last_iter = -1) {
    const { warmup_iters, max_iters, min_lr = 0 } = options;
    if (!Number.isInteger(warmup_iters) || warmup_iters < 0) throw new RangeError(`WarmupCosine: invalid warmup_iters ${warmup_iters}`);
    if (!Number.isInteger(max_iters) || max_iters < warmup_iters) {
      throw new RangeError(`WarmupCosine: max_iters ${max_iters} must be an integer >= warmup_iters ${warmup_iters}`);
    }
    if (!(min_lr >= 0)) throw new RangeError(`WarmupCosine: invalid min_lr ${min_lr}`);
    super(optimizer, last_iter);
    this.warmup_iters = warmup_iters;
    this.max_iters = max_iters;
    this.min_lr = min_lr;
    this.start();
  }

  lr_at(iter: number, group = 0): number {
    const { warmup_iters: W, max_iters: M, min_lr: m } = this;
    const B = this.base_lr(group);
    if (iter < W) return (B * (iter + 1)) / (W + 1);
    if (iter >= M) return m;
    return m + ((B - m) * (1 + Math.cos((Math.PI * (iter - W)) / (M - W)))) / 2;
  }
}
