// Tensors derived from others (batch norm folded into a convolution, a bias table gathered by index),
// computed once and reused while no input changed. The key is each input's identity and libtorch's
// version counter, which every in-place write bumps (optimizer steps, load_state_dict's copy_, batch
// norm's running statistics, init) and so does set_data (Module.to): a reused value cannot be stale.
// Only where no graph is needed: when grad is enabled and an input requires it, the value must carry
// its graph to the inputs, so it is computed afresh on every call (and the cache is left as it was).
import { native } from './native.js';
import { is_grad_enabled, no_grad } from './ops.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

export class Derived<T extends readonly Tensor[]> {
  #inputs: readonly Tensor[] = [];
  #versions: number[] = [];
  #value: T | undefined;

  /** compute()'s tensors for these inputs: the cached ones while every input is the same at the same version. */
  get(inputs: readonly Tensor[], compute: () => T): T {
    if (is_grad_enabled() && inputs.some((t) => t.requires_grad)) return compute();
    const versions = inputs.map((t) => native.tensorVersion(t.handle));
    const same =
      this.#value !== undefined &&
      inputs.length === this.#inputs.length &&
      inputs.every((t, i) => t === this.#inputs[i] && versions[i] === this.#versions[i]);
    if (!same) {
      this.dispose();
      this.#value = no_grad(() => tidy(compute));
      for (const t of this.#value) t.keep();
      this.#inputs = [...inputs];
      this.#versions = versions;
    }
    return this.#value as T;
  }

  /** Releases the cached tensors now (the next get() computes them again). */
  dispose(): void {
    for (const t of this.#value ?? []) t.dispose();
    this.#value = undefined;
    this.#inputs = [];
  }
}
