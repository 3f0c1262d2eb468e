// ckpt_loading: the pretrained-file adaptation rules. Starting from expected_state_dict's values for the
// keys no file provides, the three synthetic pretrained files (SAM, PiDiNet, CLIP layouts) are applied
// with the loaders of src/models/pretrained.ts; the stored adapted tensors and the whole resulting state
// dict are compared with the reference (resized tensors within 1e-6, everything else exactly).
import { join } from 'node:path';
import {
  type AdaptAction,
  loadMedsamEncoder,
  loadPidinet,
  loadPlipVision,
  loadSamPromptDecoder,
  subStateDict,
  withPrefix,
} from '../models/pretrained.js';
import * as torch from '../torch/index.js';
import { absolute, EXACT, type ExtraCheck, type Fixture, type KindResult, maxDiff } from './check.js';

type Tensor = torch.Tensor;

const RESIZED_TOLERANCE = 1e-6;

export function run(f: Fixture): KindResult {
  const expected = torch.io.load_safetensors(join(f.dir, 'expected_state_dict.safetensors')).tensors;
  const pretrained = (name: string): string => join(f.dir, 'pretrained', name);
  const notLoaded = f.config.keys_not_loaded as string[];
  const changed = f.config.keys_changed_by_loading as string[];
  const checks: ExtraCheck[] = [];

  // The model as it was before loading: the keys no file provides keep their values.
  const state = new Map<string, Tensor>();
  for (const k of notLoaded) {
    const v = expected.get(k);
    if (v === undefined) throw new Error(`${f.dir}: keys_not_loaded names '${k}', which expected_state_dict lacks`);
    state.set(k, v);
  }
  const actions = new Map<string, AdaptAction>();
  const duplicates: string[] = [];
  const merge = (prefix: string, sd: Map<string, Tensor>): void => {
    for (const [k, v] of withPrefix(sd, prefix)) {
      if (state.has(k)) duplicates.push(k);
      state.set(k, v);
    }
  };
  const logTo =
    (prefix: string) =>
    (key: string, action: AdaptAction): void => {
      actions.set(prefix + key, action);
    };

  // Loading order of the reference: medsam, pidinet, plip, then prompt encoder + mask decoder.
  const sam = pretrained('medsam_vit_small.pth');
  const medsamPrefix = 'image_encoder.medsam.';
  merge(medsamPrefix, loadMedsamEncoder(sam, subStateDict(expected, medsamPrefix), { log: logTo(medsamPrefix) }));
  const pidiPrefix = 'image_encoder.pidinet.';
  merge(pidiPrefix, loadPidinet(pretrained('pidinet_checkpoint.pth'), subStateDict(expected, pidiPrefix), { log: logTo(pidiPrefix) }));
  const plipPrefix = 'image_encoder.plip.';
  merge(plipPrefix, loadPlipVision(pretrained('plip_pytorch_model.bin'), subStateDict(expected, plipPrefix), { log: logTo(plipPrefix) }));
  merge('', loadSamPromptDecoder(sam, expected, { log: logTo('') }));

  // The whole state dict: key set exact, values within the rules.
  const missing = [...expected.keys()].filter((k) => !state.has(k));
  const extra = [...state.keys()].filter((k) => !expected.has(k));
  checks.push({
    name: 'state dict key set',
    ok: missing.length === 0 && extra.length === 0 && duplicates.length === 0,
    detail: `${state.size} keys (reference ${expected.size}); missing [${missing.join(', ')}], extra [${extra.join(', ')}], loaded twice [${duplicates.join(', ')}]`,
  });
  const loadedKeys = [...actions.keys()];
  const sameList =
    loadedKeys.length === changed.length && new Set(loadedKeys).size === loadedKeys.length && changed.every((k) => actions.has(k));
  checks.push({ name: 'keys changed by loading', ok: sameList, detail: `${loadedKeys.length} loaded (reference ${changed.length})` });
  const limitOf = (k: string): number => (actions.get(k) === 'resized' ? RESIZED_TOLERANCE : 0);
  const bad: string[] = [];
  let worstResized = 0;
  for (const [k, ref] of expected) {
    const mine = state.get(k);
    if (mine === undefined) continue;
    const same = mine.dtype === ref.dtype && mine.shape.length === ref.shape.length && mine.shape.every((d, i) => d === ref.shape[i]);
    const d = same ? maxDiff(mine, ref) : Number.POSITIVE_INFINITY;
    if (actions.get(k) === 'resized') worstResized = Math.max(worstResized, d);
    if (!(d <= limitOf(k))) bad.push(`${k} (${same ? `diff ${d}` : `[${mine.shape}] ${mine.dtype} vs [${ref.shape}] ${ref.dtype}`})`);
  }
  const nResized = [...actions.values()].filter((a) => a === 'resized').length;
  checks.push({
    name: 'state dict values (resized <= 1e-6, others exact)',
    ok: bad.length === 0,
    detail: bad.length ? bad.slice(0, 10).join('; ') : `${expected.size} tensors; ${nResized} resized (max diff ${worstResized})`,
  });

  // The stored adapted tensors, by their target names.
  const outputs = new Map<string, Tensor>();
  for (const name of f.outputs.keys()) {
    const v = state.get(name);
    if (v !== undefined) outputs.set(name, v.clone());
  }
  torch.dispose([state, expected]);
  return {
    outputs,
    checks,
    tolerance: (name) => (actions.get(name) === 'resized' ? absolute(RESIZED_TOLERANCE) : EXACT),
  };
}
