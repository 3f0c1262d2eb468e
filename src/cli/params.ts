// `mmfd params --config <yaml> [--json]`: parameter counts of the model a config builds; trainable as training
// trains it (a teacher's encoders too when train.freeze_encoders is false).
import { loadConfig } from '../config/index.js';
import { buildForConfig } from '../models/build.js';
import type { LoRAMultiModelSeg } from '../models/teacher.js';
import * as torch from '../torch/index.js';
import { unfreezeEncodersUnlessFrozen } from '../train/stage1.js';
import { command } from './args.js';

export const { spec, run } = command(
  {
    name: 'params',
    options: {
      config: { type: 'string', value: '<yaml>', required: true, help: 'the config whose model to count' },
      json: { type: 'boolean', help: 'print {"total", "trainable"} as JSON' },
    },
  },
  async (args) => {
    const file = args.required('config');
    const cfg = loadConfig(file);
    const { role, model } = torch.tidy(() => buildForConfig(cfg));
    if (role === 'teacher') unfreezeEncodersUnlessFrozen(model as LoRAMultiModelSeg, cfg);
    const params = model.parameters();
    const total = params.reduce((s, p) => s + p.numel(), 0);
    const trainable = params.filter((p) => p.requires_grad).reduce((s, p) => s + p.numel(), 0);
    model.dispose();
    if (args.flag('json')) console.log(JSON.stringify({ total, trainable }));
    else console.log(`${file}: ${role}, ${total.toLocaleString('en-US')} parameters, ${trainable.toLocaleString('en-US')} trainable`);
    return 0;
  },
);
