// Temporary files and folders that a killed run (kill -9, power loss) left behind. A later run removes
// those of its own naming pattern in its own folders, and only where the process that made them (the
// pid in the name) is gone: a live process, another run writing there now, keeps its files.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a process with this id exists (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `dir` whose name matches `pattern` (its group `pid`: the writer's process id) when that
 * process is gone; returns the names removed. A missing folder has nothing to remove.
 */
export function removeOrphanTemps(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.groups?.pid);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
