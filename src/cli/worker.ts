// `mmfd worker --queue <redis-url> --root <dir> [--concurrency 1] [--lock-seconds 60]`: runs queued slides
// (cohort/worker.ts) until stopped. SIGINT or SIGTERM: finish the running slides, then exit 0; a second one
// exits at once (the slides' jobs go back to the queue when their locks expire).
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { workerConnection } from '../cohort/connection.js';
import { parseRedisUrl } from '../cohort/redis_url.js';
import { startWorker } from '../cohort/worker.js';
import { type ModelSelection, networkSegmenter } from '../slides/segmenter.js';
import type { SegmenterFactory } from './segment.js';

const USAGE = 'usage: mmfd worker --queue redis://[:password@]host:port/db --root <dir> [--concurrency 1] [--lock-seconds 60]';

export async function run(args: string[], makeSegmenter: SegmenterFactory = networkSegmenter): Promise<number> {
  let values: Record<string, string | undefined>;
  let target: ReturnType<typeof parseRedisUrl>;
  let concurrency: number;
  let lockMs: number;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        queue: { type: 'string' },
        root: { type: 'string' },
        concurrency: { type: 'string', default: '1' },
        'lock-seconds': { type: 'string', default: '60' },
      },
    }));
    if (values.queue === undefined || values.root === undefined) throw new Error('give --queue and --root');
    target = parseRedisUrl(values.queue);
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error(`--concurrency needs a whole number >= 1 (got ${values.concurrency})`);
    lockMs = 1000 * Number(values['lock-seconds']);
    if (!(lockMs >= 1000)) throw new Error(`--lock-seconds needs seconds >= 1 (got ${values['lock-seconds']})`);
  } catch (err) {
    console.error(`mmfd worker: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const name = `${hostname()}:${process.pid}`;
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} mmfd worker ${name}: ${line}\n`);
  const { redis: connection, ready } = workerConnection(target, log);
  let running: ReturnType<typeof startWorker>;
  try {
    running = startWorker({
      connection,
      root: values.root,
      concurrency,
      lockMs,
      name,
      makeSegmenter: (s) => makeSegmenter({ model: s.model as ModelSelection['model'], checkpoint: s.checkpoint }),
      log,
    });
  } catch (err) {
    connection.disconnect();
    console.error(`mmfd worker: ${(err as Error).message}`);
    return 2;
  }
  running.worker.on('ready', ready);
  await running.worker.waitUntilReady();
  log(`waiting for slides on ${target.redacted} (root ${values.root}, concurrency ${concurrency})`);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log(`${signal} again: stopping now`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}: finishing the running slides (${signal} again stops at once)`);
      running.close().then(done, done);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  await connection.quit().catch(() => connection.disconnect());
  log('stopped');
  return 0;
}
