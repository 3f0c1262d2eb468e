// Leftovers of killed runs are removed only when they match the pattern and their writer is gone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { processAlive, removeOrphanTemps } from '../src/orphan_temps.js';
import { atomicTempPattern, FOLDER_TEMP_NAME } from '../src/torch/io/files.js';
import { deadPid } from './helpers/pids.js';

test('only leftovers of processes that are gone, of the given pattern, are removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-orphans-'));
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const dead = deadPid();
    const live = sleeper.pid as number;
    assert.equal(processAlive(dead), false);
    assert.equal(processAlive(live), true);
    const names = [
      `.last.safetensors.tmp-${dead}-0123456789ab`,
      `.last.safetensors.tmp-${live}-0123456789ab`,
      `.last.safetensors.tmp-${process.pid}-0123456789ab`,
      `.last.safetensors.tmp-${dead}-0123`, // not the pattern (short suffix)
      'last.safetensors',
    ];
    for (const n of names) writeFileSync(join(dir, n), 'x');
    mkdirSync(join(dir, `overlay.${dead}.deadbeef.tmp`, 'dzi_files'), { recursive: true });
    mkdirSync(join(dir, `overlay.${dead}.deadbeef.tmp.old`));
    writeFileSync(join(dir, `.cohort.csv.tmp-${dead}-0123456789ab`), 'x');
    assert.deepEqual(removeOrphanTemps(dir, atomicTempPattern(['cohort.csv'])), [`.cohort.csv.tmp-${dead}-0123456789ab`]);
    assert.deepEqual(removeOrphanTemps(dir, atomicTempPattern()), [names[0]]);
    assert.deepEqual(removeOrphanTemps(dir, FOLDER_TEMP_NAME).sort(), [`overlay.${dead}.deadbeef.tmp`, `overlay.${dead}.deadbeef.tmp.old`]);
    assert.deepEqual(readdirSync(dir).sort(), names.slice(1).sort());
    assert.deepEqual(removeOrphanTemps(join(dir, 'missing'), atomicTempPattern()), []);
  } finally {
    sleeper.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
