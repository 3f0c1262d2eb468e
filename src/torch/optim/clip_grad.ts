// Gradient clipping, as torch.nn.utils.clip_grad_norm_.
import { no_grad, stack } from '../ops.js';
import { tidy } from '../scope.js';
import { type Device, Tensor } from '../tensor.js';

/**
 * Scales the gradients of `parameters` in place so that their joint norm is at most max_norm, and
 * returns that norm before clipping (PyTorch returns it as a tensor; here it is a number). As in
 * PyTorch: total = ||(||g_1||, ..., ||g_n||)|| in the norm norm_type (Infinity or 'inf': the
 * largest |element|), and every gradient is multiplied by min(1, max_norm / (total + 1e-6)).
 * Parameters without a gradient are skipped; with none at all the result is 0.
 */
export function clip_grad_norm_(
  parameters: Tensor | Iterable<Tensor>,
  max_norm: number,
  norm_type: number | 'inf' = 2,
  error_if_nonfinite = false,
): number {
  const params = parameters instanceof Tensor ? [parameters] : [...parameters];
  const p = norm_type === 'inf' ? Number.POSITIVE_INFINITY : norm_type;
  return no_grad(() =>
    tidy(() => {
      const grads = params.map((t) => t.grad).filter((g): g is Tensor => g !== undefined);
      const first = grads[0];
      if (first === undefined) return 0;
      const device = first.device as Device;
      const norms = grads.map((g) => {
        const n = g.norm(p);
        return n.device === device ? n : n.to(device);
      });
      const total = stack(norms).norm(p);
      const value = total.item();
      if (error_if_nonfinite && !Number.isFinite(value)) {
        throw new Error(
          `The total norm of order ${p} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
            'To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=false`',
        );
      }
      // max_norm / (total + 1e-6), spelt as PyTorch's Tensor.__rtruediv__ computes it.
      const coef = total.add(1e-6).reciprocal().mul(max_norm).clamp(undefined, 1);
      for (const g of grads) {
        if (g.device === device) g.mul_(coef);
        else g.mul_(coef.to(g.device as Device));
      }
      return value;
    }),
  );
}
