// What both sides of bench:train build from an mmfd checkout (this one or an older one, through its
// dist/): its torch and loss modules, and the full-size student or teacher (random weights) with the
// parameters a training run updates; the clock both time with.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// biome-ignore lint/suspicious/noExplicitAny: the other checkout's modules, whose types this build does not see
export type Any = any;

/** The loss weights of a student step (Dice and BCE on, focal off), as the configs use. */
export const LOSS = { dice: [0.5, 0, 0, 1.5], bce: [0.5, 2, 2, 0], focal: [0, 0, 0, 0] };

export async function loadCheckout(
  root: string,
  which: 'student' | 'teacher',
): Promise<{ torch: Any; native: Any; segmentationLoss: Any; net: Any; params: Any[] }> {
  const load = (rel: string): Promise<Any> => import(pathToFileURL(join(root, 'dist/src', rel)).href);
  const [{ loadConfig }, { buildStudent, buildTeacher }, torch, { segmentationLoss }, { native }] = await Promise.all([
    load('config/index.js'),
    load('models/build.js'),
    load('torch/index.js'),
    load('train/losses.js'),
    load('torch/native.js'),
  ]);
  const configs = join(root, 'configs');
  torch.manual_seed(0);
  const net =
    which === 'student'
      ? buildStudent(loadConfig(join(configs, 'mobilesam-simple-t1i1-iter5k.yaml')))
      : buildTeacher(loadConfig(join(configs, 'multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml')));
  const params = which === 'student' ? net.parameters() : net.trainable_parameters().map(([, p]: [string, Any]) => p);
  return { torch, native, segmentationLoss, net, params };
}

export interface Cost {
  wall: number;
  cpu: number;
  /** Minor page faults: memory the allocator took from the kernel afresh (its churn). */
  faults: number;
}

/** The process's clocks now: wall and CPU ms, minor page faults. */
export function clock(): Cost {
  const u = process.resourceUsage();
  return { wall: Number(process.hrtime.bigint()) / 1e6, cpu: (u.userCPUTime + u.systemCPUTime) / 1000, faults: u.minorPageFault };
}
