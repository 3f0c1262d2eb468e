// Resume after SIGKILL: the tiny teacher trained in a child process is killed once its first `last`
// checkpoint is on disk, restarted with resume: true, and must end with exactly the weights,
// optimizer state, best mIoU and training log of an uninterrupted run with the same seed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeSyntheticDataset } from '../../src/synth/patch/dataset.js';
import * as torch from '../../src/torch/index.js';
import { finished, runCli, startCli, workspace } from './tiny_run.js';

const ws = workspace({ resume_synth: 'resume-synth' }, 'mmfd-resume-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));

const ITERATIONS = 6;
/** Shortened tiny teacher: checkpoints every 2 iterations, validation every 3 (so `best` and `last` interleave). */
const config = (name: string) =>
  ws.config(`${name}.yaml`, 'tiny-multimodel2s.yaml', {
    out_dir: join('out', name),
    model: 'resume',
    'train.dataset': 'resume_synth',
    'val.dataset': 'resume_synth',
    'test.dataset': 'resume_synth',
    'train.batch_size': 2,
    'train.max_iterations': ITERATIONS,
    'train.warmup_period': 2,
    save_iter: 2,
    eval_iter: 3,
    'test.is_savevis': false,
  });
const runDir = (name: string) => join(ws.dir, 'out', name, 'multimodel2s', 'resume', 'fewshot_perc100');

before(async () => {
  // 10 patches of 64 px: 7 training images, so 4 batches of 2 per epoch and a resume inside an epoch.
  await writeSyntheticDataset(join(ws.dir, 'data', 'resume-synth'), { count: 10, seed: 5, size: 64 });
});

async function killAfterFirstCheckpoint(cfg: string, dir: string): Promise<number> {
  const child = startCli(['train', '--config', cfg], ws.dir, ws.env);
  const done = finished(child);
  const last = join(dir, 'last.json');
  while (!existsSync(last) && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  const result = await done;
  assert.equal(result.signal, 'SIGKILL', `the run ended before it could be killed:\n${result.stderr}`);
  return (JSON.parse(readFileSync(last, 'utf8')) as { meta: { iteration: number } }).meta.iteration;
}

const logLines = (dir: string) =>
  readFileSync(join(dir, 'train_log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map(({ time: _time, images_per_s: _ips, ...rest }) => rest);

test('a run killed after a checkpoint and resumed ends bit-identical to an uninterrupted one', async () => {
  const whole = await runCli(['train', '--config', config('whole')], ws.dir, ws.env);
  assert.equal(whole.code, 0, whole.stderr);

  const cfg = config('killed');
  const killedAt = await killAfterFirstCheckpoint(cfg, runDir('killed'));
  assert.ok(killedAt > 0 && killedAt < ITERATIONS, `killed at iteration ${killedAt}`);
  const resumed = await runCli(['train', '--config', cfg], ws.dir, ws.env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resumed from .*last at iteration ${killedAt}`));

  const a = torch.io.load_checkpoint(join(runDir('whole'), 'last'));
  const b = torch.io.load_checkpoint(join(runDir('killed'), 'last'));
  try {
    assert.equal(b.meta.iteration, ITERATIONS);
    assert.equal(b.meta.best_miou, a.meta.best_miou);
    assert.deepEqual([...b.state_dict.keys()], [...a.state_dict.keys()]);
    for (const [k, t] of a.state_dict)
      assert.ok(
        torch.tidy(() => t.equal(b.state_dict.get(k)!)),
        `weight ${k}`,
      );
    assert.deepEqual([...b.optimizer!.state.keys()], [...a.optimizer!.state.keys()]);
    for (const [k, t] of a.optimizer!.state)
      assert.ok(
        torch.tidy(() => t.equal(b.optimizer!.state.get(k)!)),
        `optimizer ${k}`,
      );
    assert.deepEqual(b.meta.scheduler, a.meta.scheduler);
  } finally {
    torch.dispose([a, b]);
  }
  // The log has every iteration once (records the killed run wrote past its checkpoint were dropped), with the same losses.
  assert.deepEqual(logLines(runDir('killed')), logLines(runDir('whole')));
  assert.deepEqual(
    logLines(runDir('whole')).map((r) => `${r.kind}${r.iteration}`),
    ['train1', 'train2', 'train3', 'val3', 'train4', 'train5', 'train6', 'val6'],
  );
  assert.deepEqual(
    JSON.parse(readFileSync(join(runDir('killed'), 'eval_results.json'), 'utf8')),
    JSON.parse(readFileSync(join(runDir('whole'), 'eval_results.json'), 'utf8')),
  );
});
