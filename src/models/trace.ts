// Named intermediate tensors, recorded only while a trace is active: parity checks against the
// reference fixtures compare them one by one to find the first place two implementations diverge.
import type { Tensor } from '../torch/index.js';

let active: Map<string, Tensor> | undefined;

/** Records a copy of t under name when tracing (a no-op otherwise, so models call it freely). */
export function trace(name: string, t: Tensor): void {
  if (active !== undefined) active.set(name, t.detach().clone().keep());
}

/** Runs fn with tracing on; returns its result and every tensor recorded (the caller disposes them). */
export function withTrace<T>(fn: () => T): { result: T; traced: Map<string, Tensor> } {
  const prev = active;
  const traced = new Map<string, Tensor>();
  active = traced;
  try {
    return { result: fn(), traced };
  } finally {
    active = prev;
  }
}
