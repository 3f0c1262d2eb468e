// The ONNX Runtime engine for segmentation: the loaded student exported to ONNX in memory (src/onnx), in fp32
// or dynamically quantised int8, run by onnxruntime-node on the CPU. openPredictor() picks the engine: by
// default ONNX Runtime for the student on the CPU when onnxruntime-node loads (it is several times faster
// than libtorch's op-by-op execution there), libtorch on CUDA, for the teacher, and wherever ONNX Runtime is
// absent.
import { FINAL_CLASSES } from '../../data/classes.js';
import type { Student } from '../../models/student.js';
import { quantizeDynamic } from '../../onnx/quantize.js';
import { createSession, loadOrt, type OrtModule, ortUnavailableReason } from '../../onnx/runtime.js';
import { studentGraph } from '../../onnx/student.js';
import * as torch from '../../torch/index.js';
import { type ArrayPredictor, loadNetwork, type ModelChoice, networkPredictor, type Predictor } from './predictor.js';

export type Engine = 'torch' | 'onnx';
export type Precision = 'fp32' | 'int8';

/** The student as an ONNX Runtime predictor (the network is only read; the caller still owns it). */
export async function onnxPredictor(
  ort: OrtModule,
  net: Student,
  o: { inputMpp: number; id: string; precision?: Precision; threads?: number },
): Promise<ArrayPredictor> {
  const precision = o.precision ?? 'fp32';
  const fp32 = torch.no_grad(() => studentGraph(net, { probabilities: true }));
  const graph = precision === 'int8' ? quantizeDynamic(fp32) : fp32;
  const session = await createSession(ort, graph.encode({ producerVersion: 'mmfd' }), { threads: o.threads });
  const t = net.img_size;
  return {
    tileSize: t,
    classes: FINAL_CLASSES.map((c) => c.code),
    inputMpp: o.inputMpp,
    id: `${o.id} (onnx ${precision})`,
    // One image per run. int8 quantises each activation tensor with one scale (DynamicQuantizeLinear), so in a
    // batch a tile's result depended on its neighbours; one at a time it is the tile's own, whatever the batching.
    // Per image it costs about what a batch did (bench:infer, batch 1 against 4: within 5% in a slow hour, faster in a quiet one).
    async predictArray(batch, count) {
      const image = 3 * t * t;
      const plane = FINAL_CLASSES.length * t * t;
      const probabilities = new Float32Array(count * plane);
      for (let k = 0; k < count; k++) {
        const input = new ort.Tensor('float32', batch.subarray(k * image, (k + 1) * image), [1, 3, t, t]);
        const out = await session.run({ image: input });
        probabilities.set(out.probabilities!.data as Float32Array, k * plane);
      }
      return probabilities;
    },
    dispose: () => void session.release(),
  };
}

export interface EngineChoice extends ModelChoice {
  /** Default: ONNX Runtime for the student on the CPU when onnxruntime-node loads, else libtorch. */
  engine?: Engine;
  /** int8 runs on ONNX Runtime only. Default fp32. */
  precision?: Precision;
}

/** The engine `choice` gets: the one it names, else the faster one installed for its model and device. */
export async function resolveEngine(choice: EngineChoice, role: 'student' | 'teacher'): Promise<{ engine: Engine; ort?: OrtModule }> {
  const device = choice.device ?? torch.best_device();
  if (choice.engine === 'torch') {
    if (choice.precision === 'int8')
      throw new Error('--precision int8 runs on ONNX Runtime only: use --engine onnx (or leave --engine out)');
    return { engine: 'torch' };
  }
  const explicit = choice.engine === 'onnx' || choice.precision === 'int8';
  const why = (reason: string) => {
    throw new Error(`${choice.engine === 'onnx' ? '--engine onnx' : '--precision int8'}: ${reason}; use --engine torch`);
  };
  if (role !== 'student') return explicit ? why('the ONNX export covers the student only') : { engine: 'torch' };
  if (device !== 'cpu') return explicit ? why(`ONNX Runtime runs on the CPU here, the network is on ${device}`) : { engine: 'torch' };
  const ort = await loadOrt();
  if (ort === undefined) return explicit ? why(`onnxruntime-node is not available (${ortUnavailableReason()})`) : { engine: 'torch' };
  return { engine: 'onnx', ort };
}

/** The network `choice` names on the engine it resolves to (see resolveEngine). */
export async function openPredictor(choice: EngineChoice = {}): Promise<Predictor> {
  const loaded = loadNetwork(choice);
  try {
    const { engine, ort } = await resolveEngine(choice, loaded.role);
    if (engine === 'torch') return networkPredictor(loaded.net, { ...loaded, device: choice.device ?? torch.best_device() });
    const p = await onnxPredictor(ort!, loaded.net as Student, { ...loaded, precision: choice.precision });
    loaded.net.dispose(); // the session holds its own copy of the weights
    return p;
  } catch (err) {
    loaded.net.dispose();
    throw err;
  }
}
