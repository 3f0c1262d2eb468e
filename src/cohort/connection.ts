// Connections to the queue's Redis. A worker keeps trying with exponential back-off (capped) when Redis
// goes away and says so, once per try, and says when it is back; a command (enqueue, status) gives up after a
// few tries with an error naming the server.
import { Redis } from 'ioredis';
import type { RedisTarget } from './redis_url.js';

export interface Backoff {
  /** The first retry's delay. */
  firstMs: number;
  /** The longest delay between retries. */
  maxMs: number;
}

export const WORKER_BACKOFF: Backoff = { firstMs: 500, maxMs: 30_000 };

/**
 * A connection for a long-running worker: retries forever, logging each try and the reconnection. BullMQ
 * duplicates it for its blocking commands; the duplicate keeps these options, so either connection's loss is
 * logged (once: both retry together). `ready` is to be called when a connection is ready (the worker's
 * 'ready' event covers the blocking one).
 */
export function workerConnection(
  target: RedisTarget,
  log: (line: string) => void,
  backoff = WORKER_BACKOFF,
): { redis: Redis; ready: () => void } {
  let lost = false;
  let last = { line: '', at: 0 };
  const redis = new Redis({
    ...target.options,
    // BullMQ's blocking commands need this: a command waits for the connection to come back.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => {
      const delay = Math.min(backoff.firstMs * 2 ** (times - 1), backoff.maxMs);
      const line = `lost Redis at ${target.redacted}; retrying in ${(delay / 1000).toFixed(1)} s (try ${times})`;
      if (line !== last.line || Date.now() - last.at > 1000) log(line);
      last = { line, at: Date.now() };
      lost = true;
      return delay;
    },
  });
  const ready = () => {
    if (lost) log(`reconnected to Redis at ${target.redacted}`);
    lost = false;
  };
  redis.on('ready', ready);
  // Connection errors are reported by the lines above; without a listener ioredis prints each one.
  redis.on('error', () => {});
  return { redis, ready };
}

/** A connection for a one-off command: fails after about 2 s without Redis. */
export async function commandConnection(target: RedisTarget): Promise<Redis> {
  const redis = new Redis({
    ...target.options,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: (times) => (times > 3 ? null : 250 * times),
  });
  // The connection's own error says why (a refused certificate, a wrong password); the command's says only
  // that the connection closed.
  let cause: Error | undefined;
  redis.on('error', (err: Error) => {
    cause = err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${target.redacted}: ${(cause ?? (err as Error)).message}`);
  }
  return redis;
}
