// The --queue URL: redis://[[user]:password@]host[:port][/db] or rediss://… (TLS), parsed into ioredis
// options. The password never appears in messages (`redacted`). TLS verifies the server's certificate against
// Node's trusted CAs; a private CA is added with NODE_EXTRA_CA_CERTS=<ca.pem>, Node's own setting.
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';

export interface RedisTarget {
  options: RedisOptions;
  /** The URL without its password, for messages. */
  redacted: string;
}

export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--queue ${redactText(text)}: not a URL (redis://[:password@]host:port/db or rediss://… for TLS)`);
  }
  const tls = url.protocol === 'rediss:';
  if (!tls && url.protocol !== 'redis:')
    throw new Error(`--queue ${redactText(text)}: the scheme is redis:// or rediss:// (TLS), not ${url.protocol}//`);
  if (url.hostname === '') throw new Error(`--queue ${redactText(text)}: no host`);
  const path = url.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(path) || Number(path) > 15)
    throw new Error(`--queue ${redactText(text)}: the database is a number 0-15 (got '${path}')`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port: url.port === '' ? 6379 : Number(url.port),
    db: path === '' ? 0 : Number(path),
    ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
    ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
    // SNI takes host names only.
    ...(tls && { tls: isIP(host) === 0 ? { servername: host } : {} }),
  };
  return { options, redacted: redactText(text) };
}

/** The URL with any password replaced by '***'. */
function redactText(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^/@]*?:)[^/@]*@/i, '$1***@');
}
