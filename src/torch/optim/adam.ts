// torch.optim.Adam and AdamW, as PyTorch's single-tensor implementation (torch/optim/adam.py).
// A group's update is one call into the addon (native/src/optim.cc): the same ATen ops in the same order,
// without crossing N-API ~8 times per parameter.
import { zeros_like } from '../creation.js';
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import {
  type GroupOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupInit,
  type ParamState,
  type ParamUpdate,
  withDefaults,
} from './optimizer.js';

export interface AdamOptions extends GroupOptions {
  /** Coefficients of the running averages of the gradient and of its square. */
  betas: [number, number];
  /** Added to the denominator after sqrt(v_hat), for numerical stability. */
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, param *= 1 - lr * weight_decay. */
  weight_decay: number;
  /** Divides by the running maximum of v (AMSGrad) instead of v itself. */
  amsgrad: boolean;
  /** Maximises the objective instead of minimising it. */
  maximize: boolean;
}

const ADAM_DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false };

/**
 * Adam (Kingma & Ba), per parameter and step t:
 *   g = grad (negated if maximize) [+ weight_decay * param, Adam only]
 *   m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g  [v_max = max(v_max, v) if amsgrad]
 *   param -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
export class Adam extends Optimizer<AdamOptions> {
  /** Whether weight decay is decoupled from the gradient (AdamW) rather than an L2 term. */
  protected readonly decoupled: boolean = false;

  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInit<AdamOptions>>, options: Partial<AdamOptions> = {}) {
    super(params, withDefaults(ADAM_DEFAULTS, options));
  }

  protected override validate(g: ParamGroup<AdamOptions>): void {
    super.validate(g);
    if (!(g.eps >= 0)) throw new RangeError(`Invalid epsilon value: ${g.eps}`);
    const [b1, b2] = g.betas;
    if (!(b1 >= 0 && b1 < 1)) throw new RangeError(`Invalid beta parameter at index 0: ${b1}`);
    if (!(b2 >= 0 && b2 < 1)) throw new RangeError(`Invalid beta parameter at index 1: ${b2}`);
    if (!(g.weight_decay >= 0)) throw new RangeError(`Invalid weight_decay value: ${g.weight_decay}`);
  }

  protected init_state(g: ParamGroup<AdamOptions>, p: Tensor): Map<string, Tensor> {
    const s = new Map([
      ['exp_avg', zeros_like(p)],
      ['exp_avg_sq', zeros_like(p)],
    ]);
    if (g.amsgrad) s.set('max_exp_avg_sq', zeros_like(p));
    return s;
  }

  protected override update_group(g: ParamGroup<AdamOptions>, updates: ParamUpdate[]): void {
    const byStep = new Map<number, ParamUpdate[]>();
    for (const u of updates) {
      // A state loaded from a run without amsgrad starts its maximum at zero.
      if (g.amsgrad && !u.state.tensors.has('max_exp_avg_sq')) this.set_state_tensor(u.state, 'max_exp_avg_sq', zeros_like(u.p));
      byStep.set(u.state.step, [...(byStep.get(u.state.step) ?? []), u]);
    }
    const [beta1, beta2] = g.betas;
    for (const [step, list] of byStep) {
      const stateOf = (name: string) => list.map((u) => (u.state.tensors.get(name) as Tensor).handle);
      const bias_correction1 = 1 - beta1 ** step;
      const bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5;
      native.adamStep(
        list.map((u) => u.p.handle),
        list.map((u) => u.grad.handle),
        stateOf('exp_avg'),
        stateOf('exp_avg_sq'),
        g.amsgrad ? stateOf('max_exp_avg_sq') : undefined,
        [g.lr, beta1, beta2, g.eps, g.weight_decay, g.lr / bias_correction1, bias_correction2_sqrt],
        [this.decoupled, g.maximize],
      );
    }
  }

  protected update(g: ParamGroup<AdamOptions>, p: Tensor, grad: Tensor, state: ParamState): void {
    this.update_group(g, [{ p, grad, state }]);
  }
}

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, param *= 1 - lr * weight_decay,
 * applied before the Adam update (default weight_decay 1e-2).
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInit<AdamOptions>>, options: Partial<AdamOptions> = {}) {
    super(params, withDefaults({ ...ADAM_DEFAULTS, weight_decay: 1e-2 }, options));
  }
}
