// Every picture and report is written to a temporary name beside its target and renamed into place,
// so a reader (a browser refreshing the report, a later run) never sees a half-written file.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDir } from '../make_dir.js';

/** Writes data to path atomically, creating the parent folder; on failure no file is left at either name. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  makeDir(dirname(path));
  // A unique suffix: two writers of the same target must not share (and clobber) one temporary file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`${path}: cannot write: ${(err as Error).message}`, { cause: err });
  }
}
