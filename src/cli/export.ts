// `mmfd export --checkpoint <best.json> --format onnx|pth|safetensors --out <file> [--precision fp32|int8]
//   [--model student|teacher] [--config <yaml>]`: a trained network for other tools (src/export/model_export.ts).
import { existsSync } from 'node:fs';
import { EXPORT_FORMATS, exportModel } from '../export/model_export.js';
import { command, UsageError } from './args.js';

export const { spec, run } = command(
  {
    name: 'export',
    options: {
      checkpoint: { type: 'string', value: '<file>', required: true, help: 'an mmfd checkpoint (best.json) or a state-dict file' },
      format: { type: 'string', value: EXPORT_FORMATS.join('|'), required: true, help: 'onnx (the student), pth or safetensors' },
      out: { type: 'string', value: '<file>', required: true, help: 'the file to write' },
      precision: { type: 'string', value: 'fp32|int8', default: 'fp32', help: 'onnx: int8 weights, dynamically quantised activations' },
      model: { type: 'string', value: 'student|teacher', help: 'the network, for a state-dict file (an mmfd checkpoint records its own)' },
      config: { type: 'string', value: '<yaml>', help: "the architecture's config (default: the checkpoint's)" },
    },
  },
  async (args) => {
    const checkpoint = args.required('checkpoint');
    const format = args.choice('format', EXPORT_FORMATS);
    const out = args.required('out');
    const precision = args.choice('precision', ['fp32', 'int8'] as const);
    const model = args.string('model') === undefined ? undefined : args.choice('model', ['student', 'teacher'] as const);
    if (!existsSync(checkpoint)) throw new UsageError(`--checkpoint ${checkpoint}: no such file`);
    const choice = model === undefined ? { model: checkpoint } : { model, weights: checkpoint };
    const r = exportModel({ ...choice, config: args.string('config'), format, out, precision });
    console.log(
      `${out}: the ${r.role} (${r.id}) as ${format}${precision === 'int8' ? ' int8' : ''}, ${r.tensors} tensors, ${r.bytes} bytes`,
    );
    return 0;
  },
);
