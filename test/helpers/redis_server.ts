// A real redis-server for tests: 127.0.0.1 only, a free port, its own temporary folder, AOF on (so a restart
// keeps every job) and no RDB snapshots. stop() and restart() wait for the process; a test calls stop() in
// after(), and the process is also killed if the test process exits first.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  port: number;
  dir: string;
  /** Stops it (SIGTERM: a clean shutdown that flushes the AOF) and starts it again on the same port and folder. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server with `extra` arguments (e.g. ['--requirepass', 'pw']); `tls` serves TLS on the port instead. */
export async function startRedis(extra: string[] = [], tls?: { cert: string; key: string }): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-redis-'));
  const ports =
    tls === undefined
      ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-auth-clients', 'no'];
  const args = [...ports, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', ...extra];
  let proc: ChildProcess | undefined;
  const kill = () => proc?.kill('SIGKILL');
  process.on('exit', kill);
  const launch = async () => {
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Ready to accept connections')) resolve();
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', onData);
      p.once('error', reject);
      p.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${log}`)));
    });
  };
  const halt = async () => {
    const p = proc;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await launch();
  return {
    port,
    dir,
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
