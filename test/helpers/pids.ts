// Process ids for the leftover-file tests: one of a process that has exited.
import { spawnSync } from 'node:child_process';

/** The pid of a child that ran and exited (free until the system reuses it, far later than a test runs). */
export function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '0']);
  if (pid === undefined || pid <= 0) throw new Error('could not start a child process');
  return pid;
}
