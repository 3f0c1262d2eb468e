// torch.optim.Adam and AdamW, as PyTorch's single-tensor implementation (torch/optim/adam.py).
// Contiguous float CPU parameters are updated by one fused native pass each (native/src/optim.cc,
// the same formulas); the others by the ATen ops in update().
import { zeros_like } from '../creation.js';
import { native } from '../native.js';
import { maximum } from '../ops.js';
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

function biasCorrections(beta1: number, beta2: number, step: number): { bias_correction1: number; bias_correction2_sqrt: number } {
  return { bias_correction1: 1 - beta1 ** step, bias_correction2_sqrt: (1 - beta2 ** step) ** 0.5 };
}

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
      if (g.amsgrad && !u.state.tensors.has('max_exp_avg_sq')) this.set_state_tensor(u.state, 'max_exp_avg_sq', zeros_like(u.p));
      byStep.set(u.state.step, [...(byStep.get(u.state.step) ?? []), u]);
    }
    const [beta1, beta2] = g.betas;
    for (const [step, list] of byStep) {
      const stateOf = (name: string) => list.map((u) => (u.state.tensors.get(name) as Tensor).handle);
      const { bias_correction1, bias_correction2_sqrt } = biasCorrections(beta1, beta2, step);
      const skipped = native.adamStep(
        list.map((u) => u.p.handle),
        list.map((u) => u.grad.handle),
        stateOf('exp_avg'),
        stateOf('exp_avg_sq'),
        g.amsgrad ? stateOf('max_exp_avg_sq') : undefined,
        [g.lr, beta1, beta2, g.eps, g.weight_decay, g.lr / bias_correction1, bias_correction2_sqrt],
        [this.decoupled, g.amsgrad, g.maximize],
      );
      for (const i of skipped) {
        const u = list[i] as ParamUpdate;
        this.update(g, u.p, u.grad, u.state);
      }
    }
  }

  protected update(g: ParamGroup<AdamOptions>, p: Tensor, grad0: Tensor, st: ParamState): void {
    const { lr, eps, weight_decay, amsgrad, maximize } = g;
    const [beta1, beta2] = g.betas;
    let grad = maximize ? grad0.neg() : grad0;
    if (weight_decay !== 0) {
      if (this.decoupled) p.mul_(1 - lr * weight_decay);
      else grad = grad.add(p, weight_decay);
    }
    const exp_avg = st.tensors.get('exp_avg') as Tensor;
    const exp_avg_sq = st.tensors.get('exp_avg_sq') as Tensor;
    exp_avg.lerp_(grad, 1 - beta1);
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);

    const { bias_correction1, bias_correction2_sqrt } = biasCorrections(beta1, beta2, st.step);
    const step_size = lr / bias_correction1;
    let v = exp_avg_sq;
    if (amsgrad) {
      let max_sq = st.tensors.get('max_exp_avg_sq');
      // A state loaded from a run without amsgrad starts its maximum at zero.
      if (max_sq === undefined) max_sq = this.set_state_tensor(st, 'max_exp_avg_sq', zeros_like(p));
      max_sq.copy_(maximum(max_sq, exp_avg_sq));
      v = max_sq;
    }
    const denom = v.sqrt().div_(bias_correction2_sqrt).add_(eps);
    p.addcdiv_(exp_avg, denom, -step_size);
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
