// Shared by the training tests: the mmfd CLI run as a child process (as users run it), and a
// workspace folder holding copies of the repository's tiny configs, shortened, with a dataset
// catalog of its own (MMFD_DATASETS) so every output stays inside the workspace.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { deriveConfigText } from '../../src/config/derive.js';
import { ensureBuiltinDataset } from '../../src/train/datasets.js';

/** The repository root (this file runs from dist/test/train/). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `mmfd <args>` in `cwd` with extra environment variables. */
export function startCli(args: readonly string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for a child started by startCli, collecting its output. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const runCli = (args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> =>
  finished(startCli(args, cwd, env));

export interface Workspace {
  dir: string;
  /** MMFD_DATASETS for the children. */
  env: Record<string, string>;
  /** Writes configs/<name> from the repository's configs/<from> with dotted-path overrides; returns the relative path. */
  config(name: string, from: string, values: Record<string, unknown>): string;
}

/** A fresh workspace whose catalog maps each name to a folder under <dir>/data (absent until generated). */
export function workspace(datasets: Record<string, string>, prefix = 'mmfd-train-'): Workspace {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'configs'));
  const catalog = join(dir, 'datasets.yaml');
  const entries = Object.fromEntries(
    Object.entries(datasets).map(([name, folder]) => [name, { root: join('data', folder), split: 'splits/fewer/fewer_test30' }]),
  );
  writeFileSync(catalog, stringify(entries));
  return {
    dir,
    env: { MMFD_DATASETS: catalog },
    config(name, from, values) {
      writeFileSync(join(dir, 'configs', name), deriveConfigText(join(REPO, 'configs', from), values));
      return join('configs', name);
    },
  };
}

/** Every file under `dir`, sorted, hashed with its path: a key that changes whenever the built code does. */
function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path.slice(dir.length)).update(readFileSync(path));
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Links the built-in synthetic datasets (`name` -> the workspace folder the catalog gives it) to copies generated
 * once per build of the code, by the same first-use path training takes (ensureBuiltinDatasets), in a cache under
 * the system's temporary folder. Their bytes depend only on the code and the built-in spec, so the demo and
 * workflow tests can share them instead of drawing 400 images each. Caches of other builds are removed.
 */
export async function linkBuiltinDatasets(ws: Workspace, datasets: Record<string, string>): Promise<string> {
  const base = join(tmpdir(), 'mmfd-test-datasets');
  const key = treeHash(join(REPO, 'dist', 'src'));
  const cache = join(base, key);
  mkdirSync(cache, { recursive: true });
  for (const old of readdirSync(base)) if (old !== key) rmSync(join(base, old), { recursive: true, force: true });
  const catalog = join(cache, 'datasets.yaml');
  writeFileSync(
    catalog,
    stringify(Object.fromEntries(Object.keys(datasets).map((n) => [n, { root: n, split: 'splits/fewer/fewer_test30' }]))),
  );
  for (const name of Object.keys(datasets)) await ensureBuiltinDataset(name, catalog);
  mkdirSync(join(ws.dir, 'data'), { recursive: true });
  for (const [name, folder] of Object.entries(datasets)) symlinkSync(join(cache, name), join(ws.dir, 'data', folder));
  return cache;
}
