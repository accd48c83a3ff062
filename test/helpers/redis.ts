/**
 * A real `redis-server` for tests (Debian's package; `.ci/run` installs it), started on a free loopback
 * port with persistence off, and stopped (or restarted on the same port) by the test. Start-up waits for
 * the server's own "Ready to accept connections" line rather than sleeping.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A running test Redis. */
export interface TestRedis {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:<port>` */
  readonly url: string;
  /**
   * Stops the server and waits for it to exit. Safe to call twice. With `keepData`, it first writes its
   * data set to its own temp directory (`SHUTDOWN SAVE`), so `start` brings the same queues back: Redis
   * went away and returned, nothing lost.
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts it again on the same port (after `stop`), with the data set `stop` kept, if any. */
  start(): Promise<void>;
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** A certificate and key (PEM files) for TLS; the certificate is its own CA. */
export interface TestTls {
  readonly cert: string;
  readonly key: string;
}

function launch(
  port: number,
  password: string | undefined,
  dir: string,
  tls: TestTls | undefined,
): Promise<ChildProcess> {
  const listen =
    tls === undefined
      ? ['--port', String(port)]
      : [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          tls.cert,
          '--tls-key-file',
          tls.key,
        ].concat(['--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no']);
  const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (password !== undefined) args.push('--requirepass', password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('Ready to accept connections')) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', (error) => {
      reject(new Error(`could not start redis-server (apt-get install redis-server): ${error.message}`));
    });
    child.on('exit', (code) => {
      reject(new Error(`redis-server exited (${String(code)}) before it was ready:\n${out}`));
    });
  });
}

/** Starts a redis-server on a free loopback port; `password` turns on `requirepass`, `tls` serves TLS only. `stop` it in the test's cleanup. */
export async function startRedis(options: { password?: string; tls?: TestTls } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'maestro-redis-'));
  let child: ChildProcess | null = await launch(port, options.password, dir, options.tls);
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const stop = async (stopOptions: { keepData?: boolean } = {}): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      running.once('exit', () => {
        resolve();
      }),
    );
    if (stopOptions.keepData === true) {
      const cli = [
        '-p',
        String(port),
        ...(options.password === undefined ? [] : ['--no-auth-warning', '-a', options.password]),
      ];
      execFileSync('redis-cli', [...cli, 'SHUTDOWN', 'SAVE'], { stdio: 'ignore' });
    } else {
      running.kill('SIGTERM');
    }
    await exited;
    if (stopOptions.keepData !== true) rmSync(dir, { recursive: true, force: true });
  };
  return {
    port,
    url: `${options.tls === undefined ? 'redis' : 'rediss'}://${auth}127.0.0.1:${String(port)}`,
    stop,
    start: async () => {
      if (child !== null) return;
      mkdirSync(dir, { recursive: true });
      child = await launch(port, options.password, dir, options.tls);
    },
  };
}
