// Containers whose children are named "0", "1", ... as in PyTorch, so their keys match.

import { pipe } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { Module, type Parameter } from './module.js';

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
    return pipe(x, ...this.items.map((m) => (t: Tensor) => m.forward(t)));
  }
}

/** Parameters named "0", "1", ... (PyTorch's ParameterList), e.g. one learned token set per depth. */
export class ParameterList extends Module implements Iterable<Parameter> {
  readonly items: Parameter[];

  constructor(items: Iterable<Parameter> = []) {
    super();
    this.items = [...items];
  }

  protected override own_parameters(): [string, Parameter][] {
    return this.items.map((p, i) => [String(i), p]);
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): Parameter {
    const p = this.items.at(i);
    if (p === undefined) throw new RangeError(`ParameterList: index ${i} out of range (${this.items.length} parameters)`);
    return p;
  }
  [Symbol.iterator](): Iterator<Parameter> {
    return this.items[Symbol.iterator]();
  }
  forward(..._args: never[]): unknown {
    throw new Error('ParameterList has no forward(); index it');
  }
}
