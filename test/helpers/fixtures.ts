// Where test inputs live: the shared reference fixtures ($MMFD_FIXTURES, else ../shared/fixtures beside
// the repository) and files that ship with the tests. A missing fixture fails the test that needs it.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, found by walking up from this file (works from src and dist). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
  return dir;
}

export const FIXTURES = resolve(process.env.MMFD_FIXTURES ?? join(repoRoot(), '..', 'shared', 'fixtures'), 'reference');

/** Path of a file in the reference fixtures, e.g. fixture('checkpoint_pth', 'checkpoint.pth'). */
export function fixture(...parts: string[]): string {
  const p = join(FIXTURES, ...parts);
  if (!existsSync(p)) throw new Error(`fixture missing: ${p} (the tests need ../shared/fixtures beside the checkout)`);
  return p;
}
