// Loading a YAML config: the reference's files load unchanged; every key is checked against the
// known tree (defaults.ts), so a typo is an error naming the key and the nearest valid one.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { AUGMENTATIONS, type ConfigTree, type ConfigValue, DEFAULTS } from './defaults.js';

/** `augment` blocks are replaced, not merged: the YAML lists which augmentations run and in what order. */
const REPLACED = new Set(['train.augment', 'val.augment', 'test.augment']);

export class ConfigError extends Error {}

function isTree(v: unknown): v is ConfigTree {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  return (d[a.length] as number[])[b.length] as number;
}

/** The valid key closest to `key` among `candidates`, if one is reasonably close. */
export function nearest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** yacs runs values through literal_eval, so `gpus: (0,)` is a tuple; read such strings as lists. */
function tupleLiteral(v: string): ConfigValue[] | undefined {
  const m = /^\s*[([]\s*(.*?)\s*,?\s*[)\]]\s*$/.exec(v);
  if (!m) return undefined;
  if (m[1] === '') return [];
  return (m[1] as string).split(',').map((s) => {
    const t = s.trim().replace(/^['"]|['"]$/g, '');
    return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
  });
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : isTree(v) ? 'mapping' : typeof v;
}

function checkValue(file: string, path: string, def: ConfigValue, value: ConfigValue): ConfigValue {
  if (def === null || value === null) return value;
  if (Array.isArray(def)) {
    if (Array.isArray(value)) return value;
    if (typeof value === 'string') {
      const list = tupleLiteral(value);
      if (list) return list;
    }
  } else if (typeof def === 'number') {
    if (typeof value === 'number') return value;
    if (value === 'none') return value; // the reference's fallback marker (e.g. fuse_depth: 'none')
  } else if (typeof def === 'string') {
    if (typeof value === 'string') return value;
  } else if (typeof def === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
  } else if (isTree(def) && isTree(value)) {
    return value;
  }
  throw new ConfigError(`${file}: '${path}' must be a ${typeName(def)} (like ${JSON.stringify(def)}), got ${JSON.stringify(value)}`);
}

function merge(file: string, base: ConfigTree, over: ConfigTree, prefix: string, known: ConfigTree): ConfigTree {
  const out: ConfigTree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!(k in known)) {
      const hint = nearest(k, Object.keys(known));
      throw new ConfigError(`${file}: unknown key '${path}'${hint ? ` (did you mean '${prefix ? `${prefix}.` : ''}${hint}'?)` : ''}`);
    }
    const def = known[k] as ConfigValue;
    const checked = checkValue(file, path, def, v);
    if (REPLACED.has(path)) out[k] = merge(file, {}, checked as ConfigTree, path, AUGMENTATIONS);
    else if (isTree(def) && isTree(checked)) out[k] = merge(file, (base[k] as ConfigTree) ?? {}, checked, path, def);
    else out[k] = checked;
  }
  return out;
}

/** Parses YAML text and merges it onto the defaults (or onto `base`), validating every key. */
export function parseConfig(text: string, file = '<config>', base: ConfigTree = DEFAULTS): ConfigTree {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return structuredClone(base);
  if (!isTree(doc)) throw new ConfigError(`${file}: the top level must be a mapping of keys, got a ${typeName(doc)}`);
  return merge(file, structuredClone(base), doc as ConfigTree, '', DEFAULTS);
}

/** Reads and validates a YAML config file. */
export function loadConfig(file: string): ConfigTree {
  if (!existsSync(file)) throw new ConfigError(`${file}: config file not found`);
  return parseConfig(readFileSync(file, 'utf8'), file);
}

/** The value at a dotted path, e.g. get(cfg, 'component.fuse_depth'). */
export function get(cfg: ConfigTree, path: string): ConfigValue {
  let v: ConfigValue = cfg;
  for (const k of path.split('.')) {
    if (!isTree(v) || !(k in v)) throw new ConfigError(`config has no '${path}'`);
    v = v[k] as ConfigValue;
  }
  return v;
}
