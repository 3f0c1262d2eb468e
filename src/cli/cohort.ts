// `mmfd cohort status --queue <redis-url> [--json]`: the queue's slides by state, failures with their reasons,
// running slides and per-worker throughput (cohort/status.ts).
// `mmfd cohort report <out>`: cohort.csv and report.html from the finished slides in <out> (cohort/report.ts),
// after a queued or sharded run. Exit code 1 when a slide failed or is unfinished.
import { Queue } from 'bullmq';
import { commandConnection } from '../cohort/connection.js';
import { QUEUE_NAME } from '../cohort/job.js';
import { parseRedisUrl } from '../cohort/redis_url.js';
import { writeCohortReportFromFolder } from '../cohort/report.js';
import { COHORT_CSV, REPORT_FILE } from '../cohort/run.js';
import { cohortStatus, formatStatus } from '../cohort/status.js';
import { command, UsageError } from './args.js';

const SPEC = {
  name: 'cohort',
  positionals: { usage: 'status|report [<out>]', min: 1, max: 2 },
  options: {
    queue: { type: 'string', value: '<redis-url>', help: 'status: the queue (redis://[:password@]host:port/db, rediss:// for TLS)' },
    json: { type: 'boolean', help: 'status: print JSON' },
  },
  notes: [
    'mmfd cohort status --queue <url>: slides waiting, retrying, running, done and failed; failures; throughput per worker',
    'mmfd cohort report <out>: cohort.csv and report.html from the finished slides of a queued or sharded cohort',
  ] as string[],
} as const;

export const { spec, run } = command(SPEC, async (args) => {
  const [sub, out] = args.positionals;
  if (sub === 'report') {
    if (out === undefined) throw new UsageError('report needs the output folder: mmfd cohort report <out>');
    const outcomes = await writeCohortReportFromFolder(out);
    const failed = outcomes.filter((o) => o.status === 'failed');
    console.log(
      `${outcomes.length - failed.length} done, ${failed.length} failed or unfinished; ${out}/${REPORT_FILE} and ${out}/${COHORT_CSV}`,
    );
    for (const o of failed) console.log(`failed: ${o.name}: ${o.error}`);
    return failed.length > 0 ? 1 : 0;
  }
  if (sub !== 'status') throw new UsageError(`unknown subcommand '${sub}' (status or report)`);
  if (out !== undefined) throw new UsageError(`status takes no folder (got '${out}')`);
  let target: ReturnType<typeof parseRedisUrl>;
  try {
    target = parseRedisUrl(args.required('queue'));
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
  const connection = await commandConnection(target);
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    const status = await cohortStatus(queue);
    process.stdout.write(args.flag('json') ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return 0;
  } finally {
    await queue.close();
    await connection.quit();
  }
});
