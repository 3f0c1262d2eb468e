// Every benchmark ends the same way: its figures as bench/results/<name>.json, written atomically.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const resultsDir = new URL('../../bench/results/', import.meta.url).pathname;

/** Writes bench/results/<name>.json (temporary file, then rename) and says where. */
export function writeBenchResult(name: string, result: unknown): void {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  console.log(`wrote ${file}`);
}
