// torch.optim.SGD, as PyTorch's single-tensor implementation (torch/optim/sgd.py).
import type { Tensor } from '../tensor.js';
import { type GroupOptions, Optimizer, type ParamGroup, type ParamGroupInit, type ParamState, withDefaults } from './optimizer.js';

export interface SGDOptions extends GroupOptions {
  momentum: number;
  /** Damps the gradient's share of the momentum buffer: buf = momentum * buf + (1 - dampening) * g. */
  dampening: number;
  /** L2 penalty added to the gradient. */
  weight_decay: number;
  nesterov: boolean;
  maximize: boolean;
}

const SGD_DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false };

/**
 * Stochastic gradient descent, per parameter:
 *   g = grad (negated if maximize) + weight_decay * param
 *   if momentum: buf = g on the first step, else momentum * buf + (1 - dampening) * g;
 *                g = nesterov ? g + momentum * buf : buf
 *   param -= lr * g
 * The momentum buffer is state `momentum_buffer` (absent when momentum is 0).
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInit<SGDOptions>>, options: Partial<SGDOptions> = {}) {
    super(params, withDefaults(SGD_DEFAULTS, options));
  }

  protected override validate(g: ParamGroup<SGDOptions>): void {
    super.validate(g);
    if (!(g.momentum >= 0)) throw new RangeError(`Invalid momentum value: ${g.momentum}`);
    if (!(g.weight_decay >= 0)) throw new RangeError(`Invalid weight_decay value: ${g.weight_decay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error('Nesterov momentum requires a momentum and zero dampening');
  }

  protected init_state(): Map<string, Tensor> {
    return new Map();
  }

  protected update(g: ParamGroup<SGDOptions>, p: Tensor, grad0: Tensor, st: ParamState): void {
    const { lr, momentum, dampening, weight_decay, nesterov, maximize } = g;
    let grad = maximize ? grad0.neg() : grad0;
    if (weight_decay !== 0) grad = grad.add(p, weight_decay);
    if (momentum !== 0) {
      let buf = st.tensors.get('momentum_buffer');
      if (buf === undefined) buf = this.set_state_tensor(st, 'momentum_buffer', grad.detach().clone());
      else buf.mul_(momentum).add_(grad, 1 - dampening);
      grad = nesterov ? grad.add(buf, momentum) : buf;
    }
    p.add_(grad, -lr);
  }
}
