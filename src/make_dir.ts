// Creating output folders with the true cause on failure. Node's recursive mkdir reports a missing
// ancestor it could not create as ENOENT, whatever the reason (a read-only filesystem, no permission):
// the first missing folder is then made alone, which fails with the real error (EROFS, EACCES, ...).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** mkdir -p, or an error naming the folder and the real cause. */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    return;
  } catch (err) {
    let cause = err as NodeJS.ErrnoException;
    if (cause.code === 'ENOENT') {
      let first = resolve(dir);
      while (dirname(first) !== first && !existsSync(dirname(first))) first = dirname(first);
      try {
        mkdirSync(first);
        mkdirSync(dir, { recursive: true });
        return;
      } catch (again) {
        cause = again as NodeJS.ErrnoException;
      }
    }
    throw Object.assign(new Error(`${dir}: cannot create the folder: ${cause.message}`, { cause }), { code: cause.code });
  }
}
