// Bad configs through the CLI, as a user meets them: the command fails with a message naming the
// file and the key (and the nearest valid key for a typo) before any training starts.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, workspace } from './tiny_run.js';

const ws = workspace({}, 'mmfd-cli-errors-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  writeFileSync(join(ws.dir, name), text);
  return name;
}

async function fails(args: string[], message: RegExp): Promise<void> {
  const r = await runCli(args, ws.dir, ws.env);
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
}

test('a misspelt key names the key and the nearest valid one', async () => {
  const cfg = write('typo.yaml', "task: 'multimodel2s'\ntrain:\n  max_iteration: 10\n");
  await fails(
    ['train', '--config', cfg],
    /mmfd: typo\.yaml: unknown key 'train\.max_iteration' \(did you mean 'train\.max_iterations'\?\)/,
  );
});

test('a value of the wrong type or out of range names the key and what it must be', async () => {
  const cfg = write('type.yaml', "task: 'multimodel2s'\ntrain:\n  base_lr: fast\n");
  await fails(['train', '--config', cfg], /type\.yaml: 'train\.base_lr' must be a finite number > 0, got "fast"/);
  // Found before the run starts, not at its test stage hours later.
  const mpp = write('mpp.yaml', "task: 'mobilesam'\ninput_mpp: 0\n");
  await fails(['train', '--config', mpp], /mpp\.yaml: 'input_mpp' must be a finite number > 0, got 0/);
});

test('a missing config file is named', async () => {
  await fails(['distill', '--config', 'absent.yaml'], /absent\.yaml: config file not found/);
});

test('a config for the other stage says which command it belongs to', async () => {
  const distill = ws.config('distill.yaml', 'tiny-multimodel2s_distill.yaml', {});
  await fails(
    ['train', '--config', distill],
    /task 'multimodel2s_distill' is not the stage I teacher or the student-only baseline 'multimodel2s' or 'mobilesam' \(a distillation config: use mmfd distill\)/,
  );
  const teacher = ws.config('teacher.yaml', 'tiny-multimodel2s.yaml', {});
  await fails(['distill', '--config', teacher], /task 'multimodel2s' is not the stage II distillation .*use mmfd train/);
});

test('distillation names the teacher config it cannot find, and the key naming it', async () => {
  const cfg = ws.config('no-teacher.yaml', 'tiny-multimodel2s_distill.yaml', { 'network_t.cfg_file': 'configs/nowhere.yaml' });
  await fails(
    ['distill', '--config', cfg],
    /no-teacher\.yaml: 'network_t\.cfg_file' \(configs\/nowhere\.yaml\): .*nowhere\.yaml: config file not found/,
  );
});

test('distillation before the teacher is trained says how to train it', async () => {
  ws.config('tiny-multimodel2s.yaml', 'tiny-multimodel2s.yaml', { out_dir: 'out' });
  ws.config('tiny-mobilesam.yaml', 'tiny-mobilesam.yaml', {});
  const cfg = ws.config('untrained.yaml', 'tiny-multimodel2s_distill.yaml', { out_dir: 'out' });
  await fails(
    ['distill', '--config', cfg],
    /fewshot_perc100: no trained teacher here .*train it first: mmfd train --config configs\/tiny-multimodel2s\.yaml/,
  );
});
