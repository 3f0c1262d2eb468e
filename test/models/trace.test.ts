// Parity tracing by forward hooks: register_forward_hook sees every call's arguments and output and is gone
// after remove(); traceModules records outputs, arguments, later calls and parts of structured outputs by key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceModules } from '../../src/models/trace.js';
import * as torch from '../../src/torch/index.js';

const { nn } = torch;

/** Doubles its input; returns the result and the input as an array and an object, to test structured outputs. */
class Twice extends nn.Module {
  forward(x: torch.Tensor): { y: torch.Tensor; parts: torch.Tensor[] } {
    const y = x.mul(2);
    return { y, parts: [x, y] };
  }
}

class Net extends nn.Module {
  twice = new Twice();
  head = new nn.Sequential(new nn.ReLU(), new nn.ReLU());
  forward(x: torch.Tensor, passes: number): torch.Tensor {
    let h = x;
    for (let i = 0; i < passes; i++) h = this.twice.forward(h).y;
    return this.head.forward(h.sub(5));
  }
}

test('register_forward_hook sees each call, and remove() restores the class forward', () => {
  const m = new Twice();
  const seen: number[][] = [];
  const handle = m.register_forward_hook((module, args, output) => {
    assert.equal(module, m);
    seen.push([...(args[0] as torch.Tensor).toArray(), ...(output as { y: torch.Tensor }).y.toArray()]);
  });
  torch.tidy(() => m.forward(torch.tensor([1, 2])).y);
  torch.tidy(() => m.forward(torch.tensor([3])).y);
  assert.deepEqual(seen, [
    [1, 2, 2, 4],
    [3, 6],
  ]);
  handle.remove();
  assert.ok(!Object.hasOwn(m, 'forward'), 'no wrapper left on the instance');
  torch.tidy(() => m.forward(torch.tensor([5])).y);
  assert.equal(seen.length, 2);
});

test('traceModules records outputs, arguments, later calls and parts of outputs by key; a wrong key is an error', () => {
  const net = new Net();
  const names = {
    first: 'twice.y',
    second: 'twice@1.y',
    input: 'twice:in',
    part: 'twice@1.parts.0',
    relu: 'head.0',
    shifted: 'head:in',
    missing: 'twice@5.y',
  };
  const { result, traced } = traceModules(net, names, () => torch.tidy(() => net.forward(torch.tensor([1, 3]), 2)));
  const values = Object.fromEntries([...traced].map(([k, t]) => [k, t.toArray()]));
  assert.deepEqual(values, { first: [2, 6], second: [4, 12], input: [1, 3], part: [2, 6], relu: [0, 7], shifted: [-1, 7] });
  assert.deepEqual(result.toArray(), [0, 7]);
  assert.ok(!Object.hasOwn(net.twice, 'forward') && !Object.hasOwn(net.head, 'forward'), 'hooks removed');
  torch.dispose([result, [...traced.values()]]);
  assert.throws(() => traceModules(net, { x: 'tail.0' }, () => 0), /no module of the model is named by 'tail\.0'/);
  assert.throws(() => traceModules(net, { x: 'head:out' }, () => 0), /bad key 'head:out'/);
});
