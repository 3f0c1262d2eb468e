// `mmfd cohort status --queue <redis-url> [--json]`: the queue's slides by state, failures with their reasons,
// running slides and per-worker throughput (cohort/status.ts).
// `mmfd cohort report <out>`: cohort.csv and report.html from the finished slides in <out> (cohort/report.ts),
// after a queued or sharded run. Exit code 1 when a slide failed or is unfinished.
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { commandConnection } from '../cohort/connection.js';
import { QUEUE_NAME } from '../cohort/job.js';
import { parseRedisUrl } from '../cohort/redis_url.js';
import { writeCohortReportFromFolder } from '../cohort/report.js';
import { cohortStatus, formatStatus } from '../cohort/status.js';
import { COHORT_CSV, REPORT_FILE } from '../slides/cohort.js';

const USAGE = `usage: mmfd cohort status --queue redis://[:password@]host:port/db [--json]
       mmfd cohort report <out>`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  let parsed: ReturnType<typeof parseArgs<{ options: { queue: { type: 'string' }; json: { type: 'boolean' } }; allowPositionals: true }>>;
  try {
    if (sub !== 'status' && sub !== 'report') throw new Error(`unknown subcommand '${sub ?? ''}' (status or report)`);
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { queue: { type: 'string' }, json: { type: 'boolean' } } });
    if (sub === 'status' && (parsed.values.queue === undefined || parsed.positionals.length > 0))
      throw new Error('status needs --queue <url>');
    if (sub === 'report' && (parsed.positionals.length !== 1 || parsed.values.queue !== undefined))
      throw new Error('report needs one output folder');
  } catch (err) {
    console.error(`mmfd cohort: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (sub === 'report') {
    const out = parsed.positionals[0]!;
    const outcomes = await writeCohortReportFromFolder(out);
    const failed = outcomes.filter((o) => o.status === 'failed');
    console.log(
      `${outcomes.length - failed.length} done, ${failed.length} failed or unfinished; ${out}/${REPORT_FILE} and ${out}/${COHORT_CSV}`,
    );
    for (const o of failed) console.log(`failed: ${o.name}: ${o.error}`);
    return failed.length > 0 ? 1 : 0;
  }
  const connection = await commandConnection(parseRedisUrl(parsed.values.queue!));
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    const status = await cohortStatus(queue);
    process.stdout.write(parsed.values.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return 0;
  } finally {
    await queue.close();
    await connection.quit();
  }
}
