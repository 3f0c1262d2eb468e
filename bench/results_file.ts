// Every benchmark ends the same way: its figures as bench/results/<name>.json, written atomically.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const resultsDir = new URL('../../bench/results/', import.meta.url).pathname;

/** Writes bench/results/<name>.json (temporary file, then rename) and says where. A run on a GPU
 *  writes <name>-cuda.json, so that it never replaces the CPU figures. */
export function writeBenchResult(name: string, result: unknown, device = 'cpu'): void {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}${device === 'cpu' ? '' : '-cuda'}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  console.log(`wrote ${file}`);
}
