// medsam_encoder: MedSAM's ViT image encoder (ImageEncoderViTMS) rebuilt from config.json, loaded
// strictly from weights.safetensors and run on image_u8 / 255; every stored intermediate is compared.
import { buildMedsamEncoder, medsamOptionsFromConfig } from '../models/medsam/build.js';
import { traceModules } from '../models/trace.js';
import * as torch from '../torch/index.js';
import type { ExtraCheck, Fixture, KindResult } from './check.js';

type Tensor = torch.Tensor;

const sameKeys = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((k, i) => k === b[i]);

export function run(f: Fixture): KindResult {
  const enc = buildMedsamEncoder(medsamOptionsFromConfig(f.config)).eval();
  enc.load_state_dict(f.weights);
  const checks: ExtraCheck[] = [];
  const keys = [...enc.state_dict().keys()];
  checks.push({ name: 'state_dict keys and order', ok: sameKeys(keys, [...f.weights.keys()]), detail: `${keys.length} keys` });
  const nParams = enc.parameters().reduce((s, p) => s + p.numel(), 0);
  const want = Number(f.config.total_params);
  checks.push({ name: 'parameter count', ok: nParams === want, detail: `${nParams} (reference ${want})` });
  const npb = f.config.non_persistent_buffers as Record<string, number[]> | undefined;
  if (npb !== undefined) {
    const mine: Record<string, Tensor> = { norm_mean: enc.norm_mean, norm_std: enc.norm_std, norm_pre_scale: enc.norm_pre_scale };
    for (const [name, values] of Object.entries(npb)) {
      const t = mine[name];
      const got = t?.toArray() ?? [];
      const ok = t !== undefined && got.length === values.length && got.every((v, i) => v === values[i]);
      checks.push({ name: `buffer ${name}`, ok, detail: `[${got.join(', ')}]` });
    }
  }

  const image = f.inputs.get('image_u8');
  if (image === undefined) throw new Error(`${f.dir}: inputs.safetensors has no image_u8`);
  const names: Record<string, string> = {
    preprocessed_input: 'patch_embed:in',
    patch_embed: 'patch_embed',
    tokens_plus_pos_embed: 'blocks.0:in',
    'neck.conv1x1': 'neck.0',
    'neck.ln2d_1': 'neck.1',
    'neck.conv3x3': 'neck.2',
  };
  for (let i = 0; i < enc.blocks.length; i++) names[`block${i}`] = `blocks.${i}`;
  const forward = () => torch.no_grad(() => torch.tidy(() => enc.forward(image.float().div(255))));
  const { result, traced: outputs } = traceModules(enc, names, forward);
  const pre = outputs.get('preprocessed_input');
  if (pre !== undefined) {
    outputs.set(
      'preprocessed_input.crop16',
      torch.tidy(() => pre.slice(2, 0, 16).slice(3, 0, 16).contiguous()),
    );
    outputs.delete('preprocessed_input');
    pre.dispose();
  }
  outputs.set('features', result);
  enc.dispose();
  return { outputs, checks };
}
