// A cohort on the Redis queue, end to end with real processes: a redis-server (AOF on, a password), `mmfd
// segment --queue` enqueuing a small synthetic cohort, and three `mmfd worker`s with the ground-truth stand-in
// model. The first worker is killed with SIGKILL in the middle of a slide and Redis is restarted during the
// run. Checked: every slide finished exactly once, its outputs byte-equal to a one-machine run's (timings
// aside), the broken slide failed after its 2 attempts with its error, no job lost, the workers said they
// lost Redis and came back, `mmfd cohort report` equals the one-machine cohort.csv and report.html, enqueuing
// again adds nothing, jobs naming paths outside --root are refused, and a rediss:// URL works.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { segmentCommand } from '../../src/cli/segment.js';
import { commandConnection } from '../../src/cohort/connection.js';
import { QUEUE_NAME } from '../../src/cohort/job.js';
import { parseRedisUrl } from '../../src/cohort/redis_url.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { runCaptured } from '../helpers/cli.js';
import { type RedisServer, startRedis } from '../helpers/redis_server.js';
import { TRUTH_MODEL_SHA, truthSegmenter } from '../helpers/truth_segmenter.js';

const run = promisify(execFile);
const segment = (args: string[]) => runCaptured(segmentCommand(async () => truthSegmenter()).run, args);
const MAIN = 'dist/src/cli/main.js';
const TRUTH_CLI = 'dist/test/helpers/truth_cli.js';
const PASSWORD = 'queue-test-pw';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-queue-'));
const children: ChildProcess[] = [];
const killChildren = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
process.on('exit', killChildren);
let redis: RedisServer | undefined;
after(async () => {
  killChildren();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Worker {
  proc: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startWorker(url: string, root: string, env: Record<string, string> = {}): Worker {
  const proc = spawn(process.execPath, [TRUTH_CLI, 'worker', '--queue', url, '--root', root, '--lock-seconds', '5'], {
    env: { ...process.env, MMFD_NUM_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, log: () => log, exited };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, context = () => ''): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every file under `root`, relative, sorted. */
function files(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(root, f)).isFile())
    .sort();
}

/** A file's bytes with the run's clock taken out: timings and start/finish times in manifests and reports. */
function withoutTimings(path: string): string {
  const text = readFileSync(path, 'latin1');
  if (path.endsWith('manifest.json')) {
    const { timings_s, started, finished, ...rest } = JSON.parse(text);
    return JSON.stringify(rest);
  }
  return text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>');
}

const GOOD = ['a', 'b', 'c', 'd'];

describe('cohorts on a Redis queue', () => {
  const root = join(dir, 'root');
  const slides = join(root, 'slides');
  const out = join(root, 'out');
  const reference = join(dir, 'reference');
  const callLog = join(dir, 'calls.log');
  let url: string;
  let queue: Queue;
  let connection: Redis;
  const workers: Worker[] = [];
  const workerLogs = () => workers.map((w, i) => `--- worker ${i}\n${w.log()}`).join('\n');

  before(async () => {
    mkdirSync(slides, { recursive: true });
    for (const [k, name] of GOOD.entries())
      await writeSyntheticSlide({ out: join(slides, `${name}.tif`), width: 300 + 40 * k, height: 260, seed: 10 + k, mpp: 1 });
    writeFileSync(join(slides, 'broken.svs'), 'this is not a slide');
    // The one-machine run the queue's outputs must equal.
    assert.equal((await segment([slides, '--out', reference])).code, 1, 'the broken slide fails the one-machine run');
    redis = await startRedis(['--requirepass', PASSWORD]);
    url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`;
    connection = new Redis({ port: redis.port, host: '127.0.0.1', password: PASSWORD, maxRetriesPerRequest: null });
    connection.on('error', () => {});
    queue = new Queue(QUEUE_NAME, { connection });
    queue.on('error', () => {});
  });
  after(async () => {
    await queue?.close();
    connection?.disconnect();
  });

  test('three workers, one killed mid-slide, Redis restarted: every slide once, outputs as on one machine', async () => {
    // The first worker alone takes the first slide and stops in the middle of it.
    workers.push(startWorker(url, root, { MMFD_TEST_LOG: callLog, MMFD_TEST_HANG: 'a.tif' }));
    const enqueued = await segment([slides, '--out', out, '--queue', url, '--attempts', '2', '--retry-delay', '0.2']);
    assert.match(enqueued.stdout, /5 added, 0 retried, 0 already queued, 0 finished earlier, 0 failed/);
    await waitFor('the first worker to be in the middle of a.tif', () => existsSync(`${callLog}.hang`), 30_000, workerLogs);
    workers[0]!.proc.kill('SIGKILL');
    workers.push(startWorker(url, root, { MMFD_TEST_LOG: callLog }), startWorker(url, root, { MMFD_TEST_LOG: callLog }));
    // Both connected before Redis goes away, so both must notice.
    await waitFor(
      'the new workers to connect',
      () => workers.slice(1).every((w) => w.log().includes('waiting for slides')),
      30_000,
      workerLogs,
    );
    await waitFor('a slide to finish', () => readFileSync(callLog, 'utf8').includes('end '), 30_000, workerLogs);
    await redis!.restart();
    const counts = () => queue.getJobCounts('completed', 'failed');
    await waitFor(
      'every job to finish',
      async () => {
        const c = await counts().catch(() => ({ completed: 0, failed: 0 }));
        return c.completed! + c.failed! === 5;
      },
      60_000,
      workerLogs,
    );
    assert.deepEqual(await counts(), { completed: 4, failed: 1 });
    const completed = await queue.getJobs(['completed']);
    assert.deepEqual(completed.map((j) => j.name).sort(), GOOD);
    const [failed] = await queue.getJobs(['failed']);
    assert.equal(failed!.name, 'broken');
    assert.equal(failed!.attemptsMade, 2);
    assert.match(failed!.failedReason, /broken\.svs: not a slide format OpenSlide can read/);

    // Each good slide's segmentation finished once; a.tif was started twice (the killed run, then the taker's).
    const calls = readFileSync(callLog, 'utf8').trim().split('\n');
    for (const name of GOOD) assert.equal(calls.filter((l) => l === `end ${name}.tif`).length, 1, `${name} finished once`);
    assert.equal(calls.filter((l) => l === 'start a.tif').length, 2);
    assert.equal(calls.filter((l) => l === 'start broken.svs').length, 2);
    const taker = completed.find((j) => j.name === 'a')!.returnvalue as { worker: string };
    assert.ok(!taker.worker.endsWith(`:${workers[0]!.proc.pid}`), "another worker took the killed one's slide");

    // Outputs equal the one-machine run's byte for byte, timings aside.
    for (const name of GOOD) {
      const made = files(join(out, name));
      assert.deepEqual(made, files(join(reference, name)), name);
      for (const f of made) assert.equal(withoutTimings(join(out, name, f)), withoutTimings(join(reference, name, f)), `${name}/${f}`);
    }
    assert.ok(!existsSync(join(out, '.a.partial')), 'the killed run left no partial folder behind');

    // Both surviving workers lost Redis, said so, retried and came back; the password never shows.
    for (const w of workers.slice(1)) {
      assert.match(w.log(), /lost Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0; retrying in \d+\.\d s/, workerLogs());
      assert.match(w.log(), /reconnected to Redis/, workerLogs());
    }
    assert.ok(!workerLogs().includes(PASSWORD));
  });

  test('cohort report equals the one-machine cohort.csv and report.html; status lists states, failures, workers', async () => {
    const report = await run(process.execPath, [MAIN, 'cohort', 'report', out]).catch((err: { code: number; stdout: string }) => err);
    assert.equal((report as { code?: number }).code, 1, 'a slide failed');
    assert.match(report.stdout, /4 done, 1 failed or unfinished/);
    for (const f of ['cohort.csv', 'report.html'])
      assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(reference, f), 'utf8'), f);

    const { stdout } = await run(process.execPath, [MAIN, 'cohort', 'status', '--queue', url]);
    assert.match(stdout, /^waiting 0, retrying 0, active 0, done 4, failed 1$/m);
    assert.match(stdout, /^failed: broken \(2 attempts\): .*not a slide format/m);
    // Throughput counts the slides a worker segmented (not one it found already finished after a restart).
    const segmented = (await queue.getJobs(['completed'])).filter((j) => j.returnvalue.status === 'done').length;
    const perWorker = [...stdout.matchAll(/^worker \S+: (\d+) slides?, [\d.]+ s busy, [\d.]+ slides\/h$/gm)].map((m) => Number(m[1]));
    assert.ok(perWorker.length >= 1 && perWorker.length <= 3, stdout);
    assert.equal(
      perWorker.reduce((a, b) => a + b, 0),
      segmented,
      stdout,
    );
  });

  test('enqueuing again adds nothing; the failed slide is retried', async () => {
    const again = await segment([slides, '--out', out, '--queue', url, '--attempts', '2', '--retry-delay', '0.2']);
    assert.match(again.stdout, /0 added, 1 retried, 0 already queued, 4 finished earlier, 0 failed/);
    await waitFor(
      'the retried slide to fail again',
      async () => {
        const c = await queue.getJobCounts('failed', 'active', 'wait', 'delayed');
        return c.failed === 1 && c.active! + c.wait! + c.delayed! === 0;
      },
      30_000,
      workerLogs,
    );
  });

  test('a job naming a path outside --root, or malformed, is refused and fails at once', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    copyFileSync(join(slides, 'a.tif'), join(outside, 'x.tif'));
    symlinkSync(join(outside, 'x.tif'), join(slides, 'link.tif'));
    const valid = {
      slide: join(slides, 'a.tif'),
      name: 'x',
      out,
      slideSha256: '0'.repeat(64),
      modelSha256: TRUTH_MODEL_SHA,
      settings: JSON.parse(readFileSync(join(out, 'a', 'manifest.json'), 'utf8')).settings,
    };
    const hostile: [string, Record<string, unknown>, RegExp][] = [
      ['outside', { ...valid, slide: join(outside, 'x.tif') }, /the slide .*x\.tif is outside the worker's --root/],
      ['symlink', { ...valid, slide: join(slides, 'link.tif') }, /the slide .*link\.tif is outside the worker's --root/],
      ['dotdot', { ...valid, slide: `${slides}/../../outside/x.tif` }, /is outside the worker's --root/],
      ['out', { ...valid, out: join(outside, 'out') }, /the output folder .* is outside the worker's --root/],
      ['name', { ...valid, name: '../escape' }, /malformed job: name/],
      ['checkpoint', { ...valid, settings: { ...valid.settings, checkpoint: '/etc/passwd' } }, /the checkpoint \/etc\/passwd is outside/],
    ];
    for (const [id, data] of hostile) await queue.add(id, data, { jobId: `hostile-${id}`, attempts: 3 });
    await waitFor(
      'the hostile jobs to fail',
      async () => (await queue.getJobCounts('failed')).failed === 1 + hostile.length,
      30_000,
      workerLogs,
    );
    for (const [id, , reason] of hostile) {
      const job = (await queue.getJob(`hostile-${id}`))!;
      assert.equal(await job.getState(), 'failed', id);
      assert.equal(job.attemptsMade, 1, `${id}: not retried`);
      assert.match(job.failedReason, reason, id);
    }
    assert.deepEqual(readdirSync(outside), ['x.tif'], 'nothing written outside the root');
    assert.ok(!existsSync(join(out, 'x')) && !existsSync(join(root, 'escape')));
  });

  test('SIGTERM: the workers finish and exit 0', async () => {
    for (const w of workers.slice(1)) w.proc.kill('SIGTERM');
    for (const w of workers.slice(1)) assert.equal(await w.exited, 0, w.log());
  });
});

test('rediss:// (TLS) and a password work; the server is verified; a wrong password is a clear error', async () => {
  const tlsDir = join(dir, 'tls');
  mkdirSync(tlsDir);
  const [cert, key] = [join(tlsDir, 'cert.pem'), join(tlsDir, 'key.pem')];
  const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', ...subject], {
    stdio: 'ignore',
  });
  const server = await startRedis(['--requirepass', PASSWORD], { cert, key });
  try {
    const tlsUrl = `rediss://:${PASSWORD}@127.0.0.1:${server.port}`;
    // The command line, with the private CA added the Node way.
    const { stdout } = await run(process.execPath, [MAIN, 'cohort', 'status', '--queue', tlsUrl], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: cert },
    });
    assert.match(stdout, /^waiting 0, retrying 0, active 0, done 0, failed 0$/m);
    // Without that CA the self-signed certificate is refused; plain Redis on the TLS port and a wrong password fail.
    const trusted = { ca: readFileSync(cert) };
    for (const [url, reason, tls] of [
      [tlsUrl, /self-signed certificate/, undefined],
      [tlsUrl.replace('rediss:', 'redis:'), /./, undefined],
      [tlsUrl.replace(PASSWORD, 'wrong'), /WRONGPASS/, trusted],
    ] as const) {
      const target = parseRedisUrl(url);
      if (tls !== undefined) target.options.tls = { ...target.options.tls, ...tls };
      await assert.rejects(commandConnection(target), (err: Error) => {
        assert.match(err.message, /^cannot reach Redis at redis(s)?:\/\/:\*\*\*@127\.0\.0\.1:\d+: /);
        assert.match(err.message, reason);
        assert.ok(!err.message.includes(PASSWORD));
        return true;
      });
    }
  } finally {
    await server.stop();
  }
});
