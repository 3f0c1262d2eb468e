// Where the shared reference fixtures live: ../shared/fixtures beside the repository root.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
  return dir;
}

export const FIXTURES = resolve(repoRoot(), '..', 'shared', 'fixtures', 'reference');

/** Path of a file in one fixture folder, e.g. fixture('checkpoint_pth', 'checkpoint.pth'). */
export function fixture(folder: string, file: string): string {
  const p = join(FIXTURES, folder, file);
  if (!existsSync(p)) throw new Error(`fixture missing: ${p} (the tests need ../shared/fixtures beside the checkout)`);
  return p;
}
