import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const REDIS = '/usr/bin/redis-server';
export const hasRedis = existsSync(REDIS);

export const freePort = () => new Promise<number>((done) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => done(port));
  });
});

/** redis-servers of a test file's own, each on a free localhost port in a folder under `dir`; stopAll ends them. */
export class RedisServers {
  private readonly all: ChildProcess[] = [];

  constructor(private readonly dir: string) {}

  /** Starts one (extra redis-server arguments, e.g. --requirepass) and returns once it answers PING. */
  async start(...args: string[]): Promise<{ url: string; port: number; server: ChildProcess }> {
    const port = await freePort();
    const dir = mkdtempSync(join(this.dir, 'redis-'));
    const server = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: 'ignore' });
    this.all.push(server);
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100, password: args.includes('--requirepass') ? args[args.indexOf('--requirepass') + 1] : undefined });
    client.on('error', () => {});
    for (let i = 0; i < 50; i++) {
      try {
        await client.connect();
        await client.ping();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    client.disconnect();
    return { url: `redis://127.0.0.1:${port}`, port, server };
  }

  stopAll(): void {
    for (const s of this.all) s.kill('SIGKILL');
  }
}
