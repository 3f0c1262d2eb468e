// `mmfd worker --queue <redis-url> --root <dir> [--concurrency 1] [--lock-seconds 60]`: runs queued slides
// (cohort/worker.ts) until stopped. SIGINT or SIGTERM: finish the running slides, then exit 0; a second one
// exits at once (the slides' jobs go back to the queue when their locks expire).
import { hostname } from 'node:os';
import { workerConnection } from '../cohort/connection.js';
import { parseRedisUrl } from '../cohort/redis_url.js';
import { type ModelSelection, networkSegmenter } from '../cohort/segmenter.js';
import { startWorker } from '../cohort/worker.js';
import { command, UsageError } from './args.js';
import type { SegmenterFactory } from './segment.js';

const SPEC = {
  name: 'worker',
  options: {
    queue: { type: 'string', value: '<redis-url>', required: true, help: 'the queue: redis://[:password@]host:port/db, rediss:// for TLS' },
    root: {
      type: 'string',
      value: '<dir>',
      required: true,
      help: 'slides, output folders and checkpoints must lie under this folder; other jobs are refused',
    },
    concurrency: { type: 'string', value: '<n>', default: '1', help: 'slides run at once by this process' },
    'lock-seconds': {
      type: 'string',
      value: '<s>',
      default: '60',
      help: "a job's lock: a dead worker's slide is taken over after about this long",
    },
  },
  notes: [
    'The model each job names is loaded once (its checkpoint read under --root) and must have the enqueued hash.',
    'SIGINT/SIGTERM: finish the running slides and exit; a second one exits at once.',
  ] as string[],
} as const;

/** `mmfd worker`, with the segmenter factory tests replace. */
export function workerCommand(makeSegmenter: SegmenterFactory = networkSegmenter) {
  return command(SPEC, async (args) => {
    let target: ReturnType<typeof parseRedisUrl>;
    try {
      target = parseRedisUrl(args.required('queue'));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const root = args.required('root');
    const concurrency = args.number('concurrency', { integer: true, min: 1 }) as number;
    const lockMs = 1000 * (args.number('lock-seconds', { min: 1 }) as number);
    const name = `${hostname()}:${process.pid}`;
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} mmfd worker ${name}: ${line}\n`);
    const { redis: connection, ready } = workerConnection(target, log);
    let running: ReturnType<typeof startWorker>;
    try {
      running = startWorker({
        connection,
        root,
        concurrency,
        lockMs,
        name,
        makeSegmenter: (s) => makeSegmenter({ model: s.model as ModelSelection['model'], checkpoint: s.checkpoint }),
        log,
      });
    } catch (err) {
      connection.disconnect();
      throw new UsageError((err as Error).message);
    }
    running.worker.on('ready', ready);
    await running.worker.waitUntilReady();
    log(`waiting for slides on ${target.redacted} (root ${root}, concurrency ${concurrency})`);
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
  });
}

export const { spec, run } = workerCommand();
