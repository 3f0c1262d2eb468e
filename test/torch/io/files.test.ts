// The one atomic write, in its three forms: writeAtomic (a callback fills the file), writeFileAtomic (bytes or
// text, the folder made), AtomicFile (a file written over time); and its folder form (folderTempName,
// swapFolderIn). A target appears complete or not at all, nothing is left behind on failure, and two writers
// of one target never share a temporary file.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AtomicFile, FOLDER_TEMP_NAME, folderTempName, swapFolderIn, writeAtomic, writeFileAtomic } from '../../../src/torch/io/files.js';
import { leftoverTemps, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir();
after(cleanup);

test('writeFileAtomic makes the folder, writes text as UTF-8 and bytes as they are, and replaces a file', async () => {
  const path = join(dir, 'a', 'b', 'note.txt');
  await writeFileAtomic(path, 'µm\n');
  assert.deepEqual(readFileSync(path), Buffer.from([0xc2, 0xb5, 0x6d, 0x0a]));
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.deepEqual(leftoverTemps(join(dir, 'a', 'b')), []);
});

test('a failing writer leaves the old file and no temporary; a folder is not a target', async () => {
  const path = join(dir, 'kept.bin');
  writeAtomic(path, (sink) => sink.write(new Uint8Array([7])));
  assert.throws(
    () =>
      writeAtomic(path, (sink) => {
        sink.write(new Uint8Array([8, 9]));
        throw new Error('encoder failed');
      }),
    /encoder failed/,
  );
  assert.deepEqual([...readFileSync(path)], [7]);
  mkdirSync(join(dir, 'folder'));
  await assert.rejects(writeFileAtomic(join(dir, 'folder'), 'x'), /folder: cannot write: it is a folder/);
  assert.throws(() => writeAtomic(join(dir, 'missing', 'x.bin'), () => {}), /x\.bin: cannot write: the folder .*missing does not exist/);
  assert.deepEqual(leftoverTemps(dir), []);
});

test('AtomicFile: nothing at the target until commit; abort deletes; two writers of one target do not clobber', async () => {
  const path = join(dir, 'stream.txt');
  const first = await AtomicFile.open(path);
  const second = await AtomicFile.open(path);
  await first.handle.write('first, ');
  await second.handle.write('second');
  await first.handle.write('complete');
  assert.ok(!existsSync(path), 'nothing at the target while writing');
  assert.equal(leftoverTemps(dir).length, 2, 'each writer has its own temporary file');
  await first.commit();
  assert.equal(readFileSync(path, 'utf8'), 'first, complete');
  await second.abort();
  assert.equal(readFileSync(path, 'utf8'), 'first, complete', 'an aborted writer leaves the target as it was');
  assert.deepEqual(leftoverTemps(dir), []);
});

test('swapFolderIn puts a built folder in place, replacing an earlier one whole; temporary names are unique', async () => {
  const root = join(dir, 'folders');
  const target = join(root, 'views');
  const build = (files: string[]) => {
    const tmp = folderTempName(target);
    mkdirSync(tmp, { recursive: true });
    for (const f of files) writeFileSync(join(tmp, f), f);
    return tmp;
  };
  const first = build(['a.txt', 'b.txt']);
  const second = build(['c.txt']);
  assert.notEqual(first, second);
  assert.ok([first, second].every((t) => FOLDER_TEMP_NAME.exec(t.slice(root.length + 1))?.groups?.pid === String(process.pid)));
  await swapFolderIn(first, target);
  assert.deepEqual(readdirSync(target).sort(), ['a.txt', 'b.txt']);
  await swapFolderIn(second, target);
  assert.deepEqual(readdirSync(target), ['c.txt'], 'nothing of the earlier folder is left in it');
  assert.deepEqual(readdirSync(root), ['views'], 'no temporary or set-aside folder is left beside it');
});
