// The exported student graph in ONNX Runtime against libtorch and the reference fixture's stored outputs
// (tolerance 1e-4 x max(1, |ref|), the fixture's own), at batch 1 and 4 (the batch dim is symbolic).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSession, loadOrt } from '../../src/onnx/runtime.js';
import { studentGraph } from '../../src/onnx/student.js';
import { loadFixture, maxDiff, NETWORK } from '../../src/parity/check.js';
import { buildStudent } from '../../src/parity/student_full.js';
import * as torch from '../../src/torch/index.js';
import { fixture } from '../helpers/fixtures.js';

test('student_full: ONNX Runtime equals libtorch and the reference outputs, batch 1 and 4', async () => {
  const ort = await loadOrt();
  assert.ok(ort, 'onnxruntime-node loads');
  const f = loadFixture(fixture('student_full'));
  const net = buildStudent(f.config as never).eval();
  net.load_state_dict(f.weights);
  const model = studentGraph(net, { intermediates: true }).encode({ producerVersion: 'test' });
  const session = await createSession(ort, model, { threads: 2 });
  const image = torch.tidy(() => f.inputs.get('image_u8')!.float().div(255));
  // batch 4: the fixture's image and three variations of it
  const batch = torch.tidy(() => torch.cat([image, image.flip([3]), image.mul(0.5), image.flip([2])], 0));
  const ref = torch.no_grad(() => net.forward(batch, 'test'));
  const feeds = { image: new ort.Tensor('float32', batch.toTypedArray() as Float32Array, batch.shape) };
  const out = await session.run(feeds);
  const got = (name: string) => torch.fromTypedArray(out[name]!.data as Float32Array, out[name]!.dims as number[]);
  const pairs: [string, torch.Tensor, string][] = [
    ['masks', ref.masks, 'high_res_logits.0'],
    ['low_res_logits', ref.low_res_logits[0]!, 'low_res_logits.0'],
    ['image_embedding', ref.image_embedding, 'image_embedding'],
  ];
  for (const [name, mine, stored] of pairs) {
    const o = got(name);
    assert.deepEqual(o.shape, mine.shape, name);
    const d = maxDiff(o, mine);
    assert.ok(d <= NETWORK.limit(mine), `${name}: ORT vs libtorch max diff ${d}`);
    const want = f.outputs.get(stored)!;
    const first = o.slice(0, 0, 1);
    const dr = maxDiff(first, want);
    assert.ok(dr <= NETWORK.limit(want), `${name}: ORT vs reference max diff ${dr}`);
    torch.dispose([o, first]);
  }
  // batch 1 through the same session
  const one = await session.run({ image: new ort.Tensor('float32', image.toTypedArray() as Float32Array, image.shape) });
  const m1 = torch.fromTypedArray(one.masks!.data as Float32Array, one.masks!.dims as number[]);
  const d1 = maxDiff(m1, f.outputs.get('high_res_logits.0')!);
  assert.ok(d1 <= NETWORK.limit(f.outputs.get('high_res_logits.0')!), `batch 1: ${d1}`);
  await session.release();
  torch.dispose([m1, image, batch, ref.masks, ref.image_embedding, ...ref.low_res_logits, ...ref.high_res_logits]);
  net.dispose();
});
