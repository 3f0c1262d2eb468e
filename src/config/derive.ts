// A config file derived from another: the YAML as written (comments dropped) with dotted-path keys
// set, e.g. {'train.max_iterations': 100}. The demo and the tests run the shipped configs this way,
// with their own output folders and lengths, while the files stay loadable by `mmfd train --config`.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { writeFileAtomic } from '../torch/io/files.js';

type Tree = Record<string, unknown>;

/** The YAML text of `from` with each dotted path in `values` set (intermediate mappings created). */
export function deriveConfigText(from: string, values: Readonly<Record<string, unknown>>): string {
  const doc = (parse(readFileSync(from, 'utf8')) ?? {}) as Tree;
  for (const [path, value] of Object.entries(values)) {
    const keys = path.split('.');
    let node = doc;
    for (const k of keys.slice(0, -1)) {
      node[k] ??= {};
      node = node[k] as Tree;
    }
    node[keys.at(-1) as string] = value;
  }
  return stringify(doc);
}

/** Writes `to` (atomically) as `from` with `values` set. */
export async function writeDerivedConfig(from: string, to: string, values: Readonly<Record<string, unknown>>): Promise<void> {
  await writeFileAtomic(to, deriveConfigText(from, values));
}
