// `mmfd export`: a trained network in the formats other tools read. pth and safetensors hold the state dict
// under the reference's key names (float tensors, detached, C order), so the original PyTorch code loads it
// with `torch.load(path, weights_only=True)` + load_state_dict; onnx is the student's eval-mode forward
// (src/onnx/student.ts, opset 17, symbolic batch), optionally int8 (src/onnx/quantize.ts).
import { statSync } from 'node:fs';
import { FINAL_CLASSES } from '../data/classes.js';
import type { Student } from '../models/student.js';
import { quantizeDynamic } from '../onnx/quantize.js';
import { studentGraph } from '../onnx/student.js';
import { loadNetwork, type ModelChoice } from '../slides/pipeline/predictor.js';
import * as torch from '../torch/index.js';
import { writeAtomic } from '../torch/io/files.js';

export const EXPORT_FORMATS = ['onnx', 'pth', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions extends ModelChoice {
  format: ExportFormat;
  out: string;
  /** onnx only: int8 weights, dynamically quantised activations. */
  precision?: 'fp32' | 'int8';
}

export interface ExportResult {
  role: 'student' | 'teacher';
  id: string;
  tensors: number;
  bytes: number;
}

/** The network's state dict as plain tensors (no autograd flags: torch's state_dict() detaches too). */
function detachedStateDict(net: torch.nn.Module): Map<string, torch.Tensor> {
  return new Map([...net.state_dict()].map(([k, t]) => [k, t.detach()]));
}

/** Writes the network `o` names (an mmfd checkpoint, or --model/--weights as for segmentation) to o.out. */
export function exportModel(o: ExportOptions): ExportResult {
  if (o.precision === 'int8' && o.format !== 'onnx')
    throw new Error(`--precision int8 applies to --format onnx only (got --format ${o.format})`);
  const { net, role, id, inputMpp } = loadNetwork({ ...o, device: 'cpu' });
  try {
    if (o.format === 'onnx') {
      if (role !== 'student') throw new Error(`${id}: the ONNX export covers the student only (the teacher: --format pth or safetensors)`);
      const student = net as Student;
      const fp32 = torch.no_grad(() => studentGraph(student));
      const graph = o.precision === 'int8' ? quantizeDynamic(fp32) : fp32;
      const bytes = graph.encode({
        producerVersion: torch.io.mmfd_version(),
        docString: `mmfd student ${id}: input image [batch, 3, ${student.img_size}, ${student.img_size}] RGB in [0, 1]; output masks = per-class logits (sigmoid for probabilities)`,
        metadata: {
          classes: JSON.stringify(FINAL_CLASSES.map((c) => c.code)),
          input_mpp: String(inputMpp),
          precision: o.precision ?? 'fp32',
        },
      });
      writeAtomic(o.out, (sink) => sink.write(bytes));
      return { role, id, tensors: graph.initializers.size, bytes: bytes.length };
    }
    const sd = detachedStateDict(net);
    try {
      if (o.format === 'pth') torch.io.save_pth(o.out, sd);
      else torch.io.save_safetensors(o.out, sd, { format: 'pt', mmfd: id });
      return { role, id, tensors: sd.size, bytes: statSync(o.out).size };
    } finally {
      torch.dispose([...sd.values()]);
    }
  } finally {
    net.dispose();
  }
}
