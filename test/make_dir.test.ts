// Filesystem failures say what really happened: a read-only filesystem is not "no such file", and a full
// disk during a checkpoint save names the checkpoint. Both need a small filesystem of their own (a tmpfs
// mounted read-only or 64 KiB small), so they run where mounting is allowed (root with CAP_SYS_ADMIN).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDir } from '../src/make_dir.js';
import * as torch from '../src/torch/index.js';
import { save_checkpoint } from '../src/torch/io/checkpoint.js';

/** Runs fn with a fresh tmpfs mounted (options as for mount -o); false where mounting is not allowed. */
function withTmpfs(options: string, fn: (dir: string) => void): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-fs-'));
  try {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    } catch {
      return false;
    }
    try {
      fn(dir);
    } finally {
      execFileSync('umount', [dir]);
    }
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('makeDir on a read-only filesystem reports EROFS, naming the folder', (t) => {
  const mounted = withTmpfs('ro,size=64k', (dir) => {
    const target = join(dir, 'run', 'fewshot_perc100');
    assert.throws(
      () => makeDir(target),
      (e: Error & { code?: string }) =>
        e.code === 'EROFS' && e.message.startsWith(`${target}: cannot create the folder: EROFS: read-only file system`),
    );
  });
  if (!mounted) t.skip('mounting a tmpfs is not allowed here');
});

test('makeDir creates nested folders and names the file in the way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-fs-'));
  try {
    makeDir(join(dir, 'a', 'b', 'c'));
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['c']);
    torch.io.save_safetensors(join(dir, 'file'), new Map());
    assert.throws(() => makeDir(join(dir, 'file', 'sub')), /file\/sub: cannot create the folder: ENOTDIR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk during a checkpoint save names the checkpoint and leaves no temporary file', (t) => {
  const mounted = withTmpfs('size=64k', (dir) => {
    torch.tidy(() => {
      const sd = new Map([['w', torch.zeros([64, 1024])]]);
      assert.throws(
        () => save_checkpoint(join(dir, 'last'), { state_dict: sd, meta: {} }),
        (e: Error) => e.message.startsWith(`${join(dir, 'last.safetensors')}: cannot write: ENOSPC`),
      );
    });
    assert.deepEqual(readdirSync(dir), []);
  });
  if (!mounted) t.skip('mounting a tmpfs is not allowed here');
});
