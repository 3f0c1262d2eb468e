// Shared by the training tests: the mmfd CLI run as a child process (as users run it), and a
// workspace folder holding copies of the repository's tiny configs, shortened, with a dataset
// catalog of its own (MMFD_DATASETS) so every output stays inside the workspace.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { deriveConfigText } from '../../src/config/derive.js';

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
