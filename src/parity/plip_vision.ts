// plip_vision: PLIP's CLIP vision tower (CLIPVisionTransformer_my), small configuration, x*255 input.

import type { CLIPVisionConfig } from '../models/plip/config.js';
import { CLIPVisionTransformer } from '../models/plip/vision_transformer.js';
import { traceModules } from '../models/trace.js';
import * as torch from '../torch/index.js';
import type { Fixture, KindResult } from './check.js';

export function run(f: Fixture): KindResult {
  const config = f.config.clip_vision_config as CLIPVisionConfig;
  const net = new CLIPVisionTransformer(config, Number(f.config.effective_image_size)).eval();
  net.load_state_dict(f.weights);
  const x = torch.tidy(() => f.inputs.get('image_u8')!.float().div(255));
  const names: Record<string, string> = {
    pixel_values_x255: 'embeddings:in',
    embeddings: 'embeddings',
    pre_layrnorm: 'pre_layrnorm',
    'encoder.last_hidden_state': 'encoder',
  };
  for (let i = 0; i < config.num_hidden_layers; i++) names[`encoder.layer${i}`] = `encoder.layers.${i}`;
  const { result, traced: outputs } = traceModules(net, names, () => torch.no_grad(() => net.forward(x)));
  const pixels = outputs.get('pixel_values_x255')!;
  outputs.set(
    'pixel_values_x255.crop16',
    torch.tidy(() => pixels.slice(2, 0, 16).slice(3, 0, 16).contiguous()),
  );
  outputs.set('features', result);
  const keys = [...net.state_dict().keys()];
  const expected = [...f.weights.keys()];
  const params = net.parameters().reduce((n, p) => n + p.numel(), 0);
  net.dispose();
  torch.dispose([x, pixels]);
  outputs.delete('pixel_values_x255');
  return {
    outputs,
    checks: [
      {
        name: 'state_dict keys and order',
        ok: keys.length === expected.length && keys.every((k, i) => k === expected[i]),
        detail: `${keys.length} keys`,
      },
      { name: 'parameter count', ok: params === Number(f.config.total_params), detail: `${params}` },
    ],
  };
}
