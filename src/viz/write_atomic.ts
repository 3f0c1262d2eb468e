// Every picture and report is written to a temporary name beside its target and renamed into place,
// so a reader (a browser refreshing the report, a later run) never sees a half-written file.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDir } from '../make_dir.js';

/** A unique temporary name beside path: two writers of one target must not share (and clobber) one file. */
export function tempSibling(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * What tempSibling makes (and `.old`, a folder set aside while swapping), for targets named as `names`
 * (literal names; all names when omitted). The group `pid` is the writer's process id.
 */
export function tempSiblingPattern(names?: readonly string[]): RegExp {
  const target = names === undefined ? '.+' : names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`^(?:${target})\\.(?<pid>\\d+)\\.[0-9a-f]{8}\\.tmp(?:\\.old)?$`);
}

/** Writes data to path atomically, creating the parent folder; on failure no file is left at either name. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  makeDir(dirname(path));
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`${path}: cannot write: ${(err as Error).message}`, { cause: err });
  }
}
