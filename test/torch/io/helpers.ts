// Shared by the checkpoint IO tests: where the fixtures are, temporary folders, exact tensor comparison.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as torch from '../../../src/torch/index.js';
import { repoRoot } from '../../helpers/fixtures.js';

export { fixture } from '../../helpers/fixtures.js';

/** Small binary test files that ship with these tests (made with PyTorch 1.13; see data/README.md). */
export function dataFile(name: string): string {
  return join(repoRoot(), 'test', 'torch', 'io', 'data', name);
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-io-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Names in a folder that look like leftover temporary files of an atomic write. */
export function leftoverTemps(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('.tmp-'));
}

function rawBytes(t: torch.Tensor): Buffer {
  const a = t.toTypedArray();
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Same dtype, same shape, bit-identical elements. */
export function assertTensorIdentical(a: torch.Tensor, b: torch.Tensor, what: string): void {
  assert.equal(a.dtype, b.dtype, `${what}: dtype`);
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  assert.ok(rawBytes(a).equals(rawBytes(b)), `${what}: elements differ`);
}

/** Two state dicts with the same keys in the same order and bit-identical tensors. */
export function assertStateDictsIdentical(a: Map<string, torch.Tensor>, b: Map<string, torch.Tensor>, what: string): void {
  assert.deepEqual([...a.keys()], [...b.keys()], `${what}: keys / order`);
  for (const [k, t] of a) assertTensorIdentical(t, b.get(k) as torch.Tensor, `${what}: ${k}`);
}
