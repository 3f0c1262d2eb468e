// `mmfd export --checkpoint <best.json> --format onnx|pth|safetensors --out <file> [--precision fp32|int8]
//   [--model student|teacher] [--config <yaml>]`: a trained network for other tools (src/export/model_export.ts).
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXPORT_FORMATS, type ExportFormat, exportModel } from '../export/model_export.js';

const USAGE = `usage: mmfd export --checkpoint <best.json|weights file> --format ${EXPORT_FORMATS.join('|')} --out <file> [--precision fp32|int8]
       [--model student|teacher] [--config <yaml>]`;

export async function run(args: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        checkpoint: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        precision: { type: 'string' },
        model: { type: 'string' },
        config: { type: 'string' },
      },
    }));
  } catch (err) {
    console.error(`mmfd export: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const fail = (message: string) => {
    console.error(`mmfd export: ${message}\n${USAGE}`);
    return 2;
  };
  const { checkpoint, format, out, precision, model, config } = values;
  if (checkpoint === undefined || format === undefined || out === undefined) return fail('give --checkpoint, --format and --out');
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) return fail(`--format is ${EXPORT_FORMATS.join(', ')} (got ${format})`);
  if (precision !== undefined && precision !== 'fp32' && precision !== 'int8')
    return fail(`--precision is fp32 or int8 (got ${precision})`);
  if (model !== undefined && model !== 'student' && model !== 'teacher') return fail(`--model is student or teacher (got ${model})`);
  if (!existsSync(checkpoint)) return fail(`--checkpoint ${checkpoint}: no such file`);
  const choice = model === undefined ? { model: checkpoint } : { model, weights: checkpoint };
  const r = exportModel({ ...choice, config, format: format as ExportFormat, out, precision });
  console.log(`${out}: the ${r.role} (${r.id}) as ${format}${precision === 'int8' ? ' int8' : ''}, ${r.tensors} tensors, ${r.bytes} bytes`);
  return 0;
}
