// The dataset catalog (the reference's lib/datasets/dataset_catalog.py): configs name a dataset
// (`train.dataset: placenta_dataset`) and the catalog file says where it is. A relative root is
// relative to the catalog file's folder, so the answer does not depend on the working directory.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { nearest } from '../config/load.js';
import { DataError } from './errors.js';

export interface CatalogEntry {
  name: string;
  /** Absolute dataset folder. */
  root: string;
  /** Split folder prefix inside root; the split file is <root>/<split>_fewshot<P>/dataset_split.csv. */
  split: string;
}

/** configs/datasets.yaml of this package, or $MMFD_DATASETS. */
export function defaultCatalogFile(): string {
  if (process.env.MMFD_DATASETS) return resolve(process.env.MMFD_DATASETS);
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new DataError('cannot find the package folder holding configs/datasets.yaml');
    dir = up;
  }
  return join(dir, 'configs', 'datasets.yaml');
}

/** Every entry of a catalog file: a mapping name -> {root, split}. */
export function readCatalog(file: string): Map<string, CatalogEntry> {
  if (!existsSync(file)) throw new DataError(`${file}: dataset catalog not found`);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new DataError(`${file}: must map dataset names to {root, split}`);
  const out = new Map<string, CatalogEntry>();
  for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
    const e = v as { root?: unknown; split?: unknown } | null;
    if (typeof e?.root !== 'string' || typeof e?.split !== 'string') {
      throw new DataError(`${file}: dataset '${name}' needs string keys 'root' and 'split', got ${JSON.stringify(v)}`);
    }
    out.set(name, { name, root: resolve(dirname(file), e.root), split: e.split });
  }
  return out;
}

/** The catalog entry for `name`; an unknown name is an error suggesting the nearest known one. */
export function lookupDataset(name: string, file = defaultCatalogFile()): CatalogEntry {
  const catalog = readCatalog(file);
  const entry = catalog.get(name);
  if (entry === undefined) {
    const hint = nearest(name, [...catalog.keys()]);
    throw new DataError(
      `${file}: no dataset '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${[...catalog.keys()].join(', ')}`,
    );
  }
  return entry;
}
