// Containers whose children are named "0", "1", ... as in PyTorch, so their keys match.
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  readonly items: M[];

  constructor(items: Iterable<M> = []) {
    super();
    this.items = [...items];
  }

  override named_children(): [string, Module][] {
    return this.items.map((m, i) => [String(i), m]);
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items.at(i);
    if (m === undefined) throw new RangeError(`ModuleList: index ${i} out of range (${this.items.length} modules)`);
    return m;
  }
  append(m: M): this {
    this.items.push(m);
    return this;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
  forward(..._args: never[]): unknown {
    throw new Error('ModuleList has no forward(); iterate over it');
  }
}

/** Applies its modules in order, each to the previous one's output. */
export class Sequential extends ModuleList<Module & { forward(x: Tensor): Tensor }> {
  constructor(...modules: (Module & { forward(x: Tensor): Tensor })[]) {
    super(modules);
  }
  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.items) y = m.forward(y);
    return y;
  }
}
