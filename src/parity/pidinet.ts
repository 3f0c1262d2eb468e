// pidinet: PiDiNet carv4 at real size (inplane 60, dil 24, CDCM + CSAM), input 128. Large
// intermediates are compared through their per-channel spatial means (`*.chmean`).
import type { PdcType } from '../models/pidinet/pdc.js';
import { PiDiNet } from '../models/pidinet/pidinet.js';
import { traceModules } from '../models/trace.js';
import * as torch from '../torch/index.js';
import type { Fixture, KindResult } from './check.js';

export function run(f: Fixture): KindResult {
  const c = f.config;
  const buffers = c.non_persistent_buffers as { norm_mean: number[]; norm_std: number[]; norm_pre_scale: number[] };
  const net = new PiDiNet({
    inplane: Number(c.inplane),
    pdcs: c.pdc_per_layer as PdcType[],
    dil: c.dil === null ? undefined : Number(c.dil),
    sa: Boolean(c.sa),
    norm_mean: buffers.norm_mean,
    norm_std: buffers.norm_std,
    norm_pre_scale: buffers.norm_pre_scale[0],
  }).eval();
  net.load_state_dict(f.weights);
  const x = torch.tidy(() => f.inputs.get('image_u8')!.float().div(255));
  // Each stage's output is its last block's.
  const names: Record<string, string> = {
    preprocessed_input: 'init_block:in',
    init_block: 'init_block',
    stage1_out: 'block1_3',
    stage2_out: 'block2_4',
    stage3_out: 'block3_4',
    stage4_out: 'block4_4',
  };
  for (let i = 0; i < 4; i++) {
    if (net.dilations) names[`cdcm${i}`] = `dilations.${i}`;
    if (net.attentions) names[`csam${i}`] = `attentions.${i}`;
  }
  const { result, traced } = traceModules(net, names, () => torch.no_grad(() => net.forward(x)));
  const outputs = torch.tidy(() => {
    const out = new Map<string, torch.Tensor>([['features', result]]);
    for (const [name, t] of traced) {
      if (name === 'preprocessed_input') out.set(`${name}.crop16`, t.slice(2, 0, 16).slice(3, 0, 16).contiguous());
      else out.set(`${name}.chmean`, t.mean([2, 3]));
      if (name.startsWith('csam')) out.set(name, t);
    }
    return out;
  });
  for (const [name, t] of traced) if (!outputs.has(name)) t.dispose();
  const keys = [...net.state_dict().keys()];
  const expected = [...f.weights.keys()];
  const params = net.parameters().reduce((n, p) => n + p.numel(), 0);
  net.dispose();
  x.dispose();
  return {
    outputs,
    checks: [
      {
        name: 'state_dict keys and order',
        ok: keys.length === expected.length && keys.every((k, i) => k === expected[i]),
        detail: `${keys.length} keys`,
      },
      { name: 'parameter count', ok: params === Number(c.total_params), detail: `${params}` },
    ],
  };
}
