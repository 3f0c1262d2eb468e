// Where bench:train finds its PyTorch side: bench/train/pytorch_student.py and a python that imports torch.
// Kept apart from pytorch_parity.ts so that the bench's parent process does not load libtorch.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PYTORCH_STUDENT = fileURLToPath(new URL('../../../bench/train/pytorch_student.py', import.meta.url));

/** A python that imports torch (MMFD_PYTHON, else python3, else Debian's /usr/bin/python3), or undefined. */
export function pythonWithTorch(): string | undefined {
  const candidates = process.env.MMFD_PYTHON ? [process.env.MMFD_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}
