/**
 * Redis connections for the run queue: parsing `--redis URL`, the ioredis options BullMQ is given for
 * the coordinator and for workers, and how a connection that drops is reported. BullMQ passes these
 * options to the ioredis constructor, which reads `redis://[user][:password]@host:port/db` and turns
 * on TLS for `rediss://`.
 */

/** A `--redis` value that cannot be used: an expected failure with a message for the user. */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

/** A parsed Redis address. `url` is what ioredis connects to; `display` is safe to print and to store. */
export interface RedisTarget {
  readonly url: string;
  /** `redis://host:port/db` without the user name and password (for messages, logs and the run directory). */
  readonly display: string;
  readonly tls: boolean;
  readonly hasPassword: boolean;
}

/** Parses and checks a `--redis` URL (`redis://[:password@]host[:port][/db]` or `rediss://…` for TLS). */
export function parseRedisUrl(value: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RedisUrlError(
      `--redis expects a URL such as redis://127.0.0.1:6379 or rediss://:PASSWORD@host:6380, got "${value}"`,
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new RedisUrlError(
      `--redis ${displayOf(url)}: only redis:// and rediss:// (TLS) URLs are supported`,
    );
  if (url.hostname === '') throw new RedisUrlError(`--redis ${displayOf(url)}: the URL names no host`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new RedisUrlError(`--redis ${displayOf(url)}: the path must be a database number, such as /0`);
  return {
    url: value,
    display: displayOf(url),
    tls: url.protocol === 'rediss:',
    hasPassword: url.password !== '',
  };
}

function displayOf(url: URL): string {
  const port = url.port === '' ? '' : `:${url.port}`;
  return `${url.protocol}//${url.hostname}${port}${url.pathname === '/' ? '' : url.pathname}`;
}

/**
 * ioredis options for the coordinator's and the workers' connections. `maxRetriesPerRequest: null`
 * and the offline queue make a command wait while Redis is down instead of failing, so a Redis restart
 * pauses a run rather than failing it (BullMQ's "Going to production" guide; workers need it anyway).
 * The reconnect delay is capped at 2 s so that a run carries on soon after Redis is back.
 */
export function connectionOptions(target: RedisTarget): Record<string, unknown> {
  return {
    url: target.url,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(200 * times, 2_000),
  };
}

/** The BullMQ key prefix of Maestro's queues (Redis keys `maestro:<queue>:…`). */
export const queuePrefix = 'maestro';

/** The queue that carries stream attempts for one agent backend: a worker listens only to its own backends'. */
export function attemptQueueName(backend: string): string {
  return `attempts-${backend}`;
}

/** The queue whose event stream carries control messages (cancel a run's jobs) to every worker. */
export const controlQueueName = 'control';

/** The control event that cancels a run's jobs on every worker (published by the coordinator and `abort`). */
export const cancelRunEvent = 'maestro-cancel-run';
