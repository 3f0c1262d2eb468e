// `mmfd params --config <yaml> [--json]`: parameter counts of the model a config builds; trainable as training
// trains it (a teacher's encoders too when train.freeze_encoders is false).
import { loadConfig } from '../config/index.js';
import { buildForConfig } from '../models/build.js';
import type { LoRAMultiModelSeg } from '../models/teacher.js';
import * as torch from '../torch/index.js';
import { unfreezeEncodersUnlessFrozen } from '../train/stage1.js';

export async function run(args: string[]): Promise<number> {
  const i = args.indexOf('--config');
  const file = i >= 0 ? args[i + 1] : undefined;
  if (file === undefined) {
    console.error('usage: mmfd params --config <yaml> [--json]');
    return 2;
  }
  const cfg = loadConfig(file);
  const { role, model } = torch.tidy(() => buildForConfig(cfg));
  if (role === 'teacher') unfreezeEncodersUnlessFrozen(model as LoRAMultiModelSeg, cfg);
  const params = model.parameters();
  const total = params.reduce((s, p) => s + p.numel(), 0);
  const trainable = params.filter((p) => p.requires_grad).reduce((s, p) => s + p.numel(), 0);
  model.dispose();
  if (args.includes('--json')) console.log(JSON.stringify({ total, trainable }));
  else console.log(`${file}: ${role}, ${total.toLocaleString('en-US')} parameters, ${trainable.toLocaleString('en-US')} trainable`);
  return 0;
}
