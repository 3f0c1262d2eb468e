// Resume after SIGKILL: the tiny teacher trained in a child process is killed once its first `last`
// checkpoint is on disk, restarted with resume: true, and must end with exactly the weights,
// optimizer state, best mIoU and training log of an uninterrupted run with the same seed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeSyntheticDataset } from '../../src/synth/patch/dataset.js';
import * as torch from '../../src/torch/index.js';
import { deadPid } from '../helpers/pids.js';
import { finished, runCli, startCli, workspace } from './tiny_run.js';

const ws = workspace({ resume_synth: 'resume-synth' }, 'mmfd-resume-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));

const ITERATIONS = 6;
/** Shortened tiny teacher: checkpoints every 2 iterations, validation every 3 (so `best` and `last` interleave). */
const config = (name: string, iterations = ITERATIONS) =>
  ws.config(`${name}.yaml`, 'tiny-multimodel2s.yaml', {
    out_dir: join('out', name),
    model: 'resume',
    'train.dataset': 'resume_synth',
    'val.dataset': 'resume_synth',
    'test.dataset': 'resume_synth',
    'train.batch_size': 2,
    'train.max_iterations': iterations,
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

/** The run in `dir` ended exactly as the uninterrupted one in `whole`: weights, optimizer, scheduler, best mIoU, log, results. */
function assertSameRun(dir: string, whole: string, iterations: number): void {
  const a = torch.io.load_checkpoint(join(whole, 'last'));
  const b = torch.io.load_checkpoint(join(dir, 'last'));
  try {
    assert.equal(b.meta.iteration, iterations);
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
  assert.deepEqual(logLines(dir), logLines(whole));
  assert.deepEqual(
    JSON.parse(readFileSync(join(dir, 'eval_results.json'), 'utf8')),
    JSON.parse(readFileSync(join(whole, 'eval_results.json'), 'utf8')),
  );
}

test('a run killed after a checkpoint and resumed ends bit-identical to an uninterrupted one', async () => {
  const whole = await runCli(['train', '--config', config('whole')], ws.dir, ws.env);
  assert.equal(whole.code, 0, whole.stderr);

  const cfg = config('killed');
  const killedAt = await killAfterFirstCheckpoint(cfg, runDir('killed'));
  assert.ok(killedAt > 0 && killedAt < ITERATIONS, `killed at iteration ${killedAt}`);
  // Temporary files of a save cut short by kill -9: the resumed run removes its own dead ones, not a live writer's.
  const orphan = `.last.safetensors.tmp-${deadPid()}-0123456789ab`;
  const livesOn = `.last.safetensors.tmp-${process.pid}-0123456789ab`;
  for (const n of [orphan, livesOn]) writeFileSync(join(runDir('killed'), n), 'partial');
  const resumed = await runCli(['train', '--config', cfg], ws.dir, ws.env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(!existsSync(join(runDir('killed'), orphan)));
  assert.ok(existsSync(join(runDir('killed'), livesOn)));
  assert.match(resumed.stderr, new RegExp(`resumed from .*last at iteration ${killedAt}`));

  assertSameRun(runDir('killed'), runDir('whole'), ITERATIONS);
  assert.deepEqual(
    logLines(runDir('whole')).map((r) => `${r.kind}${r.iteration}`),
    ['train1', 'train2', 'train3', 'val3', 'train4', 'train5', 'train6', 'val6'],
  );
});

test('Ctrl-C (SIGINT) saves a checkpoint at the iteration reached, exits 130, and the rerun ends as an uninterrupted run', async () => {
  // Long enough that the signal, sent once the first iteration is logged, lands well before the end.
  const long = 12;
  const whole = await runCli(['train', '--config', config('whole-long', long)], ws.dir, ws.env);
  assert.equal(whole.code, 0, whole.stderr);
  const cfg = config('sigint', long);
  const dir = runDir('sigint');
  const child = startCli(['train', '--config', cfg], ws.dir, ws.env);
  const done = finished(child);
  const log = join(dir, 'train_log.jsonl');
  while (!(existsSync(log) && readFileSync(log, 'utf8').length > 0) && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGINT');
  const stopped = await done;
  assert.equal(stopped.code, 130, stopped.stderr);
  const at = (JSON.parse(readFileSync(join(dir, 'last.json'), 'utf8')) as { meta: { iteration: number } }).meta.iteration;
  assert.ok(at >= 1 && at < long, `stopped at iteration ${at}`);
  assert.match(stopped.stderr, new RegExp(`iteration ${at}: interrupted by SIGINT; saved .*last; run the same command again to resume`));
  const resumed = await runCli(['train', '--config', cfg], ws.dir, ws.env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resumed from .*last at iteration ${at}`));
  assertSameRun(dir, runDir('whole-long'), long);
});
