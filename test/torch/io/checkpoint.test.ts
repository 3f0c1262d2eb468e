import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { load_checkpoint, load_state_dict_file, save_checkpoint } from '../../../src/torch/io/checkpoint.js';
import { load_pth, save_pth } from '../../../src/torch/io/pth.js';
import { load_safetensors, save_safetensors } from '../../../src/torch/io/safetensors.js';
import { assertStateDictsIdentical, fixture, leftoverTemps, tempDir } from './helpers.js';

test('load_state_dict_file unwraps the usual wrappers', () => {
  const pre = (f: string) => fixture('ckpt_loading', 'pretrained', f);
  torch.tidy(() => {
    const ref = load_safetensors(fixture('checkpoint_pth', 'weights.safetensors')).tensors;
    // {'net': sd, 'epoch': 3}
    assertStateDictsIdentical(load_state_dict_file(fixture('checkpoint_pth', 'checkpoint.pth')), ref, 'checkpoint.pth');
    // a bare safetensors file
    assertStateDictsIdentical(load_state_dict_file(fixture('checkpoint_pth', 'weights.safetensors')), ref, 'weights.safetensors');

    // A bare SAM state dict: same as load_pth.
    const sam = load_state_dict_file(pre('medsam_vit_small.pth'));
    const samRaw = load_pth(pre('medsam_vit_small.pth')) as Map<string, torch.Tensor>;
    assertStateDictsIdentical(sam, samRaw, 'medsam');
    assert.ok(sam.size > 100);

    // A CLIP state dict with the .bin extension.
    const plip = load_state_dict_file(pre('plip_pytorch_model.bin'));
    assertStateDictsIdentical(plip, load_pth(pre('plip_pytorch_model.bin')) as Map<string, torch.Tensor>, 'plip');
    assert.ok(plip.has('vision_model.embeddings.position_embedding.weight'));

    // {'epoch', 'state_dict'} with module.-prefixed keys.
    const raw = load_pth(pre('pidinet_checkpoint.pth')) as Map<string, unknown>;
    const inner = raw.get('state_dict') as Map<string, torch.Tensor>;
    const pidi = load_state_dict_file(pre('pidinet_checkpoint.pth'));
    assertStateDictsIdentical(pidi, inner, 'pidinet');
    assert.ok([...pidi.keys()].every((k) => k.startsWith('module.')));
    const stripped = load_state_dict_file(pre('pidinet_checkpoint.pth'), { strip_prefix: 'module.' });
    assert.deepEqual(
      [...stripped.keys()],
      [...inner.keys()].map((k) => k.slice('module.'.length)),
    );
    // The expected teacher state dict holds the PiDiNet keys (without classifier / conv_reduces) under image_encoder.pidinet.
    const expected = load_safetensors(fixture('ckpt_loading', 'expected_state_dict.safetensors')).tensors;
    for (const k of stripped.keys()) {
      if (k.includes('classifier') || k.includes('conv_reduces')) continue;
      assert.ok(expected.has(`image_encoder.pidinet.${k}`), k);
    }
  });
});

test("load_state_dict_file handles {'model': sd} and {'state_dict': sd}, frees the rest, and rejects non-state-dicts", () => {
  const { dir, cleanup } = tempDir();
  try {
    torch.tidy(() => {
      const sd = new Map([
        ['a.weight', torch.randn([2, 3])],
        ['a.bias', torch.randn([2])],
      ]);
      for (const key of ['model', 'state_dict', 'net']) {
        const path = join(dir, `${key}.pt`);
        save_pth(
          path,
          new Map<string, unknown>([
            [key, sd],
            ['optimizer', new Map([['state', new Map([[0, new Map([['exp_avg', torch.zeros([2, 3])]])]])]])],
            ['epoch', 5],
          ]) as never,
        );
        const before = torch.memory_stats().tensors;
        const loaded = load_state_dict_file(path);
        // Only the two state-dict tensors stay alive; the optimizer tensor was freed.
        assert.equal(torch.memory_stats().tensors - before, 2);
        assertStateDictsIdentical(loaded, sd, key);
      }
      const notSd = join(dir, 'list.pth');
      save_pth(notSd, [1, 2, 3]);
      assert.throws(
        () => load_state_dict_file(notSd),
        (e: Error) => e.message.includes(notSd) && /no state dict found: the file holds a list of 3/.test(e.message),
      );
      const unknown = join(dir, 'weights.data');
      writeFileSync(unknown, 'hello world');
      assert.throws(() => load_state_dict_file(unknown), /unknown checkpoint format/);
      // An unknown extension is sniffed.
      const sniffed = join(dir, 'weights.data2');
      save_safetensors(sniffed, sd);
      assertStateDictsIdentical(load_state_dict_file(sniffed), sd, 'sniffed safetensors');
    });
  } finally {
    cleanup();
  }
});

test('mmfd checkpoint: save_checkpoint -> load_checkpoint round trip', () => {
  const { dir, cleanup } = tempDir();
  try {
    torch.tidy(() => {
      const state_dict = new Map([
        ['enc.weight', torch.randn([4, 3])],
        ['enc.bias', torch.randn([4])],
        ['bn.num_batches_tracked', torch.fromTypedArray(new BigInt64Array([17n]), [])],
        ['optimizer.weight', torch.randn([2])], // a model key that happens to start with 'optimizer.'
      ]);
      const optState = new Map([
        ['state.0.exp_avg', torch.randn([4, 3])],
        ['state.0.step', torch.tensor([3], { dtype: 'float32' })],
      ]);
      const meta = { step: 1200, epoch: 3, config: { lr: 1e-4, name: 'student', sizes: [1, 2, 3] }, best: null };
      const optMeta = { param_groups: [{ lr: 1e-4, betas: [0.9, 0.999], params: [0] }] };
      const stem = join(dir, 'ckpt_0003');
      save_checkpoint(stem, { state_dict, optimizer: { state: optState, meta: optMeta }, meta });
      assert.ok(existsSync(`${stem}.safetensors`) && existsSync(`${stem}.json`));
      assert.deepEqual(leftoverTemps(dir), []);
      const doc = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as Record<string, unknown>;
      assert.equal(doc.format, 'mmfd-checkpoint');
      assert.equal(typeof doc.mmfd_version, 'string');
      assert.deepEqual(doc.files, ['ckpt_0003.safetensors']);
      // The safetensors holds the model keys, then the optimizer ones under 'optimizer.'.
      const raw = load_safetensors(`${stem}.safetensors`).tensors;
      assert.deepEqual([...raw.keys()], [...state_dict.keys(), 'optimizer.state.0.exp_avg', 'optimizer.state.0.step']);

      for (const p of [stem, `${stem}.json`, `${stem}.safetensors`]) {
        const back = load_checkpoint(p);
        assertStateDictsIdentical(back.state_dict, state_dict, 'state_dict');
        assert.ok(back.optimizer);
        assertStateDictsIdentical(back.optimizer.state, optState, 'optimizer');
        assert.deepEqual(back.optimizer.meta, optMeta);
        assert.deepEqual(back.meta, meta);
      }
      // Without an optimizer.
      save_checkpoint(join(dir, 'plain'), { state_dict, meta: { step: 1 } });
      const plain = load_checkpoint(join(dir, 'plain'));
      assert.equal(plain.optimizer, undefined);
      assert.equal(plain.state_dict.size, 4);
    });
  } finally {
    cleanup();
  }
});

test('mmfd checkpoint: incomplete or mismatched files are refused', () => {
  const { dir, cleanup } = tempDir();
  try {
    torch.tidy(() => {
      const sd = new Map([['w', torch.randn([3])]]);
      const stem = join(dir, 'c');
      assert.throws(() => load_checkpoint(stem), /no checkpoint here/);

      save_checkpoint(stem, { state_dict: sd, meta: { step: 1 } });
      // The weights without their JSON (a save that stopped half way).
      renameSync(`${stem}.json`, `${stem}.json.bak`);
      assert.throws(() => load_checkpoint(stem), /c\.json: missing: .* incomplete/);
      renameSync(`${stem}.json.bak`, `${stem}.json`);

      // The JSON of one save with the weights of another (a crash between the two renames).
      const oldJson = readFileSync(`${stem}.json`);
      save_checkpoint(stem, { state_dict: new Map([['w', torch.randn([3])]]), meta: { step: 2 } });
      writeFileSync(`${stem}.json`, oldJson);
      assert.throws(() => load_checkpoint(stem), /disagree/);

      // The JSON without its weights.
      save_checkpoint(stem, { state_dict: sd, meta: { step: 3 } });
      unlinkSync(`${stem}.safetensors`);
      assert.throws(() => load_checkpoint(stem), /c\.safetensors: missing/);

      // A JSON listing a key the weights lack.
      save_checkpoint(stem, { state_dict: sd, meta: { step: 4 } });
      const doc = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as { weights: { state_dict_keys: string[] } };
      doc.weights.state_dict_keys.push('ghost');
      writeFileSync(`${stem}.json`, JSON.stringify(doc));
      assert.throws(() => load_checkpoint(stem), /'ghost' is listed but missing/);

      // Meta that JSON cannot hold is rejected before anything is written.
      const other = join(dir, 'bad');
      assert.throws(() => save_checkpoint(other, { state_dict: sd, meta: { x: Number.NaN } }), /meta\.x is NaN/);
      assert.throws(() => save_checkpoint(other, { state_dict: sd, meta: { t: torch.ones([1]) } }), /meta\.t is a Tensor/);
      assert.throws(() => save_checkpoint(other, { state_dict: sd, meta: { m: new Map() } }), /meta\.m is a Map/);
      assert.equal(existsSync(`${other}.safetensors`) || existsSync(`${other}.json`), false);
      // Into a missing folder: an error, no files.
      assert.throws(() => save_checkpoint(join(dir, 'nope', 'c'), { state_dict: sd, meta: {} }), /does not exist/);
      assert.deepEqual(leftoverTemps(dir), []);
    });
  } finally {
    cleanup();
  }
});
