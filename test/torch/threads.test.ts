import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import * as torch from '../../src/torch/index.js';

const engine = new URL('../../src/torch/index.js', import.meta.url).href;

function threadsWith(env: Record<string, string | undefined>): { out: string; err: string; status: number | null } {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import(${JSON.stringify(engine)}).then((t) => console.log(t.get_num_threads()))`],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    },
  );
  return { out: r.stdout.trim(), err: r.stderr, status: r.status };
}

test('intra-op threads default to the core count, MMFD_NUM_THREADS overrides, bad values are refused', () => {
  assert.equal(threadsWith({ MMFD_NUM_THREADS: undefined }).out, String(availableParallelism()));
  assert.equal(threadsWith({ MMFD_NUM_THREADS: '1' }).out, '1');
  const bad = threadsWith({ MMFD_NUM_THREADS: 'many' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /MMFD_NUM_THREADS must be a positive integer, got 'many'/);
});

test('set_num_threads changes the count and validates its argument', () => {
  const before = torch.get_num_threads();
  torch.set_num_threads(1);
  assert.equal(torch.get_num_threads(), 1);
  torch.set_num_threads(before);
  assert.throws(() => torch.set_num_threads(0), /positive integer/);
});

test('OpenMP threads wait passively unless the user chose a policy', () => {
  const policy = (env: Record<string, string | undefined>) =>
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import(${JSON.stringify(engine)}).then(() => console.log(process.env.OMP_WAIT_POLICY))`],
      {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      },
    ).stdout.trim();
  assert.equal(policy({ OMP_WAIT_POLICY: undefined }), 'PASSIVE');
  assert.equal(policy({ OMP_WAIT_POLICY: 'ACTIVE' }), 'ACTIVE');
});
