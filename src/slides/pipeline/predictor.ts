// What segmentation runs tiles through: a Predictor maps a batch of tiles [B, 3, t, t] (RGB in [0, 1]) to
// per-class probabilities [B, C, t, t]. The slide machinery knows nothing else about models, so tests use
// known functions and any network fits. loadPredictor() makes one from MMFD's networks: `student` (default),
// `teacher`, or any trained checkpoint, with the checkpoint's `input_mpp` (mpp.ts) as the pixel size it needs.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig, validateConfig } from '../../config/index.js';
import { FINAL_CLASSES } from '../../data/classes.js';
import { buildStudent, buildTeacher } from '../../models/build.js';
import { adaptStudent } from '../../models/pretrained.js';
import type { Student } from '../../models/student.js';
import type { LoRAMultiModelSeg } from '../../models/teacher.js';
import * as torch from '../../torch/index.js';
import { loadTrainingCheckpoint, pretrainedFrozenKeys } from '../../train/checkpoints.js';
import { inputMppOf } from '../io/mpp.js';

type Tensor = torch.Tensor;

interface PredictorBase {
  /** The tile edge the model takes, in pixels. */
  readonly tileSize: number;
  /** Class codes, in channel order. */
  readonly classes: readonly string[];
  /** Microns per pixel of the model's input. */
  readonly inputMpp: number;
  /** What the model is (kind, weights file, engine, ...): part of the resume key and the run's record. */
  readonly id: string;
  /** Frees the model's native memory. */
  dispose(): void;
}

/** A synchronous engine (libtorch, known functions in tests). */
export interface TensorPredictor extends PredictorBase {
  /** [B, 3, t, t] in [0, 1] -> [B, C, t, t] probabilities in [0, 1]. The caller disposes both tensors. */
  predict(batch: Tensor): Tensor;
}

/** An engine with an asynchronous API (ONNX Runtime): flat float32 arrays in and out. */
export interface ArrayPredictor extends PredictorBase {
  /** `count` tiles [count, 3, t, t] in [0, 1] -> [count, C, t, t] probabilities in [0, 1]. */
  predictArray(batch: Float32Array, count: number): Promise<Float32Array>;
}

export type Predictor = TensorPredictor | ArrayPredictor;

/** Runs n tiles (float RGB planes [n, 3, t, t] in `input`) through either kind of predictor: probabilities [n, C, t, t]. */
export async function predictTiles(predictor: Predictor, input: Float32Array, n: number): Promise<Float32Array> {
  const [t, C] = [predictor.tileSize, predictor.classes.length];
  const probs =
    'predictArray' in predictor
      ? await predictor.predictArray(input, n)
      : torch.tidy(() => {
          const out = predictor.predict(torch.fromTypedArray(input, [n, 3, t, t]));
          const shape = out.shape.join(' x ');
          if (shape !== `${n} x ${C} x ${t} x ${t}`) throw new Error(`${predictor.id}: predicted ${shape}, not ${n} x ${C} x ${t} x ${t}`);
          return out.float().contiguous().toTypedArray() as Float32Array;
        });
  if (probs.length !== n * C * t * t) throw new Error(`${predictor.id}: predicted ${probs.length} values, not ${n} x ${C} x ${t} x ${t}`);
  return probs;
}

export type Role = 'student' | 'teacher';

export interface ModelChoice {
  /** 'student' (default), 'teacher', or the path of a trained checkpoint (an mmfd checkpoint, or a state-dict file). */
  model?: string;
  /** Weights for 'student' / 'teacher': an mmfd checkpoint or a state-dict file. */
  weights?: string;
  /** The YAML config the architecture is built from; default: the checkpoint's meta.config, else the role's config in configs/. */
  config?: string;
  /** Untrained weights from this seed, for speed and memory measurements only; the id says so. */
  randomSeed?: number;
  /** Overrides the checkpoint's input_mpp. */
  inputMpp?: number;
  /** Where the network runs; default CUDA when the linked libtorch has it, else the CPU. */
  device?: torch.Device;
}

/** The configs shipped in configs/ for each role. */
export const DEFAULT_CONFIGS: Record<Role, string> = {
  student: 'multimodel2s_distill-pidinet-plip-d2t512-iter5k-b8-lr0001.yaml',
  teacher: 'multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml',
};

function configsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find mmfd's package folder (for configs/)");
    dir = up;
  }
  return join(dir, 'configs');
}

/** An MMFD network as a Predictor: sigmoid of its final high-resolution logits (the classes overlap).
 *  On a GPU the batch goes there and the probabilities come back to the CPU. */
export function networkPredictor(
  net: Student | LoRAMultiModelSeg,
  o: { inputMpp: number; id: string; device?: torch.Device },
): TensorPredictor {
  const device = o.device ?? 'cpu';
  net.eval();
  if (device !== 'cpu') net.to(device);
  const tileSize = 'sam' in net ? net.sam.img_size : net.img_size;
  const classes = FINAL_CLASSES.map((c) => c.code);
  return {
    tileSize,
    classes,
    inputMpp: o.inputMpp,
    id: o.id,
    predict: (batch) =>
      torch.no_grad(() =>
        torch.tidy(() => {
          const x = device === 'cpu' ? batch : batch.to(device);
          const out = net.forward(x, 'test');
          const probabilities = out.masks.sigmoid();
          return device === 'cpu' ? probabilities : probabilities.to('cpu');
        }),
      ),
    dispose: () => net.dispose(),
  };
}

const stemOf = (path: string) => path.replace(/\.(json|safetensors)$/, '');
const isMmfdCheckpoint = (path: string) => existsSync(`${stemOf(path)}.json`);

/** An mmfd checkpoint's meta, read from its JSON without loading its tensors. */
function checkpointMeta(path: string): Record<string, unknown> {
  const file = `${stemOf(path)}.json`;
  let doc: { format?: unknown; meta?: unknown };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (err) {
    throw new Error(`${file}: not a readable checkpoint description: ${(err as Error).message}`);
  }
  if (doc.format !== torch.io.CHECKPOINT_FORMAT) throw new Error(`${file}: not an mmfd checkpoint`);
  return doc.meta !== null && typeof doc.meta === 'object' ? (doc.meta as Record<string, unknown>) : {};
}

/** The role a checkpoint's meta records (`role`, else its config's task). */
function roleOf(meta: Record<string, unknown>, path: string): Role {
  if (meta.role === 'student' || meta.role === 'teacher') return meta.role;
  const task = (meta.config as { task?: unknown } | undefined)?.task;
  if (task === 'multimodel2s') return 'teacher';
  if (task === 'mobilesam' || task === 'multimodel2s_distill') return 'student';
  throw new Error(
    `${path}: the checkpoint's meta records neither a role ('student' or 'teacher') nor a config task; say which model it holds (student or teacher)`,
  );
}

function configFor(role: Role, choice: ModelChoice, meta: Record<string, unknown>, where: string): Config {
  if (choice.config !== undefined) return loadConfig(choice.config);
  if (meta.config !== null && typeof meta.config === 'object') return validateConfig(meta.config, `${where} (meta.config)`);
  // mmfd's own choice of file: its compatibility-only keys are not the user's to hear about.
  return loadConfig(join(configsDir(), DEFAULT_CONFIGS[role]), () => {});
}

/**
 * The network `choice` names, loaded (eval mode, on the CPU). 'student' without weights takes the config's `ckpt`;
 * trained weights are required unless randomSeed is given. An mmfd training checkpoint (src/train) brings its
 * config and input_mpp; the frozen encoders it leaves out come from the pretrained files its config names.
 * A plain state-dict file is a student's (in mmfd's or the reference's layout) unless --model teacher says so.
 */
export function loadNetwork(choice: ModelChoice = {}): LoadedNetwork {
  const model = choice.model ?? 'student';
  const named = model === 'student' || model === 'teacher';
  let weights = named ? choice.weights : model;
  if (weights === undefined && model === 'student' && choice.randomSeed === undefined) {
    const { ckpt } = configFor('student', choice, {}, 'student');
    if (ckpt !== 'none' && ckpt !== '') weights = ckpt;
  }
  if (weights === undefined && choice.randomSeed === undefined) {
    throw new Error(`the ${model} needs trained weights`);
  }
  if (weights !== undefined && !existsSync(weights) && !isMmfdCheckpoint(weights)) throw new Error(`${weights}: no such checkpoint`);
  const mmfd = weights !== undefined && isMmfdCheckpoint(weights);
  const meta = mmfd ? checkpointMeta(weights!) : {};
  const where = weights ?? model;
  const role: Role = named ? (model as Role) : mmfd ? roleOf(meta, where) : 'student';
  const cfg = configFor(role, choice, meta, where);
  const inputMpp = choice.inputMpp ?? inputMppOf(meta, where);
  const pretrained = typeof meta.omitted_pretrained === 'number' && meta.omitted_pretrained > 0;
  if (choice.randomSeed !== undefined) torch.manual_seed(choice.randomSeed);
  const net = torch.tidy(() => (role === 'student' ? buildStudent(cfg, { pretrained }) : buildTeacher(cfg, { pretrained })));
  try {
    if (mmfd) {
      loadTrainingCheckpoint(stemOf(weights!), net, { omitted: pretrainedFrozenKeys(net, pretrained) });
    } else if (weights !== undefined) {
      const file = torch.io.load_state_dict_file(weights);
      const sd = role === 'student' ? adaptStudent(file, net.state_dict(), { source: weights }) : file;
      try {
        net.load_state_dict(sd, true);
      } finally {
        torch.dispose([...file.values(), ...sd.values()]);
      }
    }
  } catch (err) {
    net.dispose();
    throw err;
  }
  const id = weights === undefined ? `${role}:random:${choice.randomSeed}` : `${role}:${basename(weights)}`;
  net.eval();
  return { net, role, inputMpp, id };
}

export interface LoadedNetwork {
  net: Student | LoRAMultiModelSeg;
  role: Role;
  inputMpp: number;
  id: string;
}

/** The network `choice` names on libtorch, as a Predictor (see loadNetwork). */
export function loadPredictor(choice: ModelChoice = {}): TensorPredictor {
  const { net, inputMpp, id } = loadNetwork(choice);
  return networkPredictor(net, { inputMpp, id, device: choice.device ?? torch.best_device() });
}
