// End to end through the engine: a PyTorch training checkpoint ({'net': state_dict, 'epoch': 3})
// loads into modules built here, and their forward pass reproduces the reference output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { fixture } from '../../helpers/fixtures.js';

const { nn } = torch;

/** TinyViT's Conv2d_BN: a bias-free conv then batch norm, keys `c.*` and `bn.*`. */
class Conv2dBN extends nn.Module {
  c: torch.nn.Conv2d;
  bn: torch.nn.BatchNorm2d;
  constructor(cin: number, cout: number) {
    super();
    this.c = new nn.Conv2d(cin, cout, 3, { stride: 2, padding: 1, bias: false });
    this.bn = new nn.BatchNorm2d(cout);
  }
  forward(x: torch.Tensor): torch.Tensor {
    return this.bn.forward(this.c.forward(x));
  }
}

class PatchEmbed extends nn.Module {
  seq = new nn.Sequential(new Conv2dBN(3, 8), new nn.GELU(), new Conv2dBN(8, 16));
  forward(x: torch.Tensor): torch.Tensor {
    return this.seq.forward(x);
  }
}

test('checkpoint_pth: the {net, epoch} checkpoint loads strictly and reproduces the reference forward', () => {
  const ckpt = torch.io.load_pth(fixture('checkpoint_pth', 'checkpoint.pth')) as Map<string, unknown>;
  assert.equal(ckpt.get('epoch'), 3);
  const net = new PatchEmbed().eval();
  net.load_state_dict(ckpt.get('net') as Map<string, torch.Tensor>);
  const x = torch.io.load_safetensors(fixture('checkpoint_pth', 'inputs.safetensors')).tensors.get('x')!;
  const ref = torch.io.load_safetensors(fixture('checkpoint_pth', 'outputs.safetensors')).tensors.get('y')!;
  const y = torch.no_grad(() => net.forward(x));
  assert.deepEqual(y.shape, ref.shape);
  const maxRef = ref.abs().max().item();
  const err = y.sub(ref).abs().max().item();
  assert.ok(err <= 1e-4 * Math.max(1, maxRef), `max abs error ${err}`);
  // The checkpoint's int64 batch counters land in the module unchanged.
  assert.equal(net.seq.at(0).state_dict().get('bn.num_batches_tracked')?.dtype, 'int64');
});
