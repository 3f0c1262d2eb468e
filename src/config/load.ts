// Loading a YAML config: the reference's files load unchanged; the schema (schema.ts) checks every key, type
// and range, so a typo is an error naming the key and the nearest valid one, and a bad value one naming the
// key, what it must be and what it is.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { inertSettings } from './inert.js';
import { type Config, ConfigSchema } from './schema.js';

export class ConfigError extends Error {}

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

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A value as the message shows it: NaN and infinities by name (YAML's .nan / .inf), others as JSON. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const text = JSON.stringify(v, (_, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const dotted = (path: readonly PropertyKey[]): string =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');

/** The keys the schema knows at a path of nested sections. */
function keysAt(path: readonly PropertyKey[]): string[] {
  const unwrap = (s: unknown): { shape?: Record<string, unknown> } | undefined => {
    let cur = s as { shape?: Record<string, unknown>; _zod?: { def: { innerType?: unknown; in?: unknown } } } | undefined;
    while (cur && !cur.shape && (cur._zod?.def.innerType ?? cur._zod?.def.in))
      cur = (cur._zod?.def.innerType ?? cur._zod?.def.in) as typeof cur;
    return cur;
  };
  let s = unwrap(ConfigSchema);
  for (const k of path) s = unwrap(s?.shape?.[String(k)]);
  return Object.keys(s?.shape ?? {});
}

function describe(file: string, iss: z.core.$ZodIssue): string[] {
  if (iss.code === 'unrecognized_keys') {
    const candidates = (iss as { candidates?: string[] }).candidates ?? keysAt(iss.path);
    const at = (k: string) => dotted([...iss.path, k]);
    return iss.keys.map((k) => {
      const hint = nearest(k, candidates);
      return `${file}: unknown key '${at(k)}'${hint ? ` (did you mean '${at(hint)}'?)` : ''}`;
    });
  }
  return [`${file}: '${dotted(iss.path)}' ${iss.message}, got ${show(iss.input)}`];
}

/** `doc` parsed by `schema`, or a ConfigError naming `file` and every problem: key, what it must be, what it is. */
export function checked<S extends z.ZodType>(schema: S, doc: unknown, file: string): z.output<S> {
  const r = schema.safeParse(doc, { reportInput: true });
  if (r.success) return r.data;
  throw new ConfigError(r.error.issues.flatMap((iss) => describe(file, iss)).join('\n'));
}

/** Validates a parsed document against the schema: the typed config, or a ConfigError listing every problem. */
export function validateConfig(doc: unknown, file = '<config>'): Config {
  if (doc === null || doc === undefined) doc = {};
  if (!isMapping(doc))
    throw new ConfigError(`${file}: the top level must be a mapping of keys, got a ${Array.isArray(doc) ? 'list' : typeof doc}`);
  return checked(ConfigSchema, doc, file);
}

/** Parses YAML text and validates it; keys it leaves out take their defaults. */
export function parseConfig(text: string, file = '<config>'): Config {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  return validateConfig(doc, file);
}

/** The defaults of every key (a config file with nothing in it). */
export const defaultConfig = (): Config => validateConfig({});

/** Files whose inert settings were already noted on stderr by this process. */
const noted = new Set<string>();

/**
 * Reads and validates a YAML config file. Each key it sets that mmfd accepts but does not act on is noted, with
 * the reason: to `note`, else on stderr once per file and process.
 */
export function loadConfig(file: string, note?: (line: string) => void): Config {
  if (!existsSync(file)) throw new ConfigError(`${file}: config file not found`);
  const cfg = parseConfig(readFileSync(file, 'utf8'), file);
  if (note === undefined && noted.has(file)) return cfg;
  if (note === undefined) noted.add(file);
  for (const line of inertSettings(cfg)) (note ?? ((l: string) => process.stderr.write(`${l}\n`)))(`${file}: ${line}`);
  return cfg;
}
