/**
 * `--redis` for `maestro run`, `resume` and `abort`: which Redis and which git remote a run uses, and
 * the `QueueExecutor` that runs its attempts on workers. Without `--redis` none of this is loaded.
 */
import path from 'node:path';
import { isBackendName } from '../agents/registry.js';
import type { QueueClient } from '../queue/client.js';
import { parseRedisUrl, RedisUrlError, type RedisTarget } from '../queue/connection.js';
import { remoteUrl } from '../queue/remote.js';
import { isSafeRemote } from '../queue/schema.js';
import type { StreamExecutor } from '../run/executor.js';
import type { RunOptions } from '../run/types.js';
import { CliError } from './errors.js';

/** A run's queue settings, checked. */
export interface QueueSettings {
  readonly redis: RedisTarget;
  /** The remote's name (or path) in the coordinator's repository. */
  readonly remote: string;
  /** The remote as workers reach it: its URL (credential-free) or absolute path. */
  readonly remoteForWorkers: string;
}

/** The environment variable that may hold the Redis URL (with its password) instead of the command line. */
export const redisUrlEnv = 'MAESTRO_REDIS_URL';

function parseRedis(url: string): RedisTarget {
  try {
    return parseRedisUrl(url);
  } catch (error) {
    if (error instanceof RedisUrlError) throw new CliError(error.message);
    throw error;
  }
}

/** Checks `--redis` / `--remote` for a new run: the remote must exist and be usable by workers without secrets. */
export async function queueSettings(repo: string, redisUrl: string, remote: string): Promise<QueueSettings> {
  const redis = parseRedis(redisUrl);
  let url = await remoteUrl(repo, remote);
  if (url === null)
    throw new CliError(
      `--remote ${remote}: no such git remote in ${repo}; add one every worker can reach (\`git remote add ${remote} URL\`), or name another with --remote`,
    );
  // A local path (a shared bare repository) is given to workers as an absolute path.
  if (!/^[a-z]+:\/\//.test(url) && !/^[^/]+@[^/]+:/.test(url)) url = path.resolve(repo, url);
  if (!isSafeRemote(url))
    throw new CliError(
      `--remote ${remote} (${url.replace(/\/\/[^/@]*@/, '//…@')}): workers need a plain URL without credentials (https://, ssh://, git@host:path) or an absolute path; give workers their own credentials (SSH keys, a git credential helper)`,
    );
  return { redis, remote, remoteForWorkers: url };
}

/** What `options.json` keeps of the queue settings: no password. */
export function savedQueueOptions(settings: QueueSettings): NonNullable<RunOptions['redis']> {
  return { url: settings.redis.display, needsPassword: settings.redis.hasPassword, remote: settings.remote };
}

/** The queue settings of a saved run, with the Redis URL from `--redis` or MAESTRO_REDIS_URL when its password was not saved. */
export async function savedQueueSettings(
  repo: string,
  saved: NonNullable<RunOptions['redis']>,
  redisFlag: string | undefined,
): Promise<QueueSettings> {
  const given = redisFlag ?? process.env[redisUrlEnv];
  if (given === undefined && saved.needsPassword)
    throw new CliError(
      `this run's Redis (${saved.url}) needs its password, which Maestro never writes to disk: pass --redis URL again, or set ${redisUrlEnv}`,
    );
  return queueSettings(repo, given ?? saved.url, saved.remote);
}

/** Opens the run queue: the executor for a run's attempts, and the client to close when the run ends. */
export async function openQueue(
  settings: QueueSettings,
  repo: string,
  runId: string,
  agent: string,
  note: (message: string) => void,
): Promise<{ executor: StreamExecutor; client: QueueClient }> {
  if (!isBackendName(agent))
    throw new CliError(`unknown agent "${agent}"; use claude, codex, gemini, command or demo`);
  const [{ QueueClient }, { QueueExecutor }] = await Promise.all([
    import('../queue/client.js'),
    import('../queue/executor.js'),
  ]);
  const client = await QueueClient.connect({
    redis: settings.redis,
    repo,
    remote: settings.remote,
    remoteForWorkers: settings.remoteForWorkers,
    hooks: { note },
  });
  return { executor: new QueueExecutor(client, runId, agent), client };
}
