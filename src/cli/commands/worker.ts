import { Option, type Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { backendNames, isBackendName, type BackendName } from '../../agents/registry.js';
import type { AgentBackend } from '../../agents/types.js';
import { parseRedisUrl, RedisUrlError } from '../../queue/connection.js';
import { noSetup, startWorker } from '../../queue/worker.js';
import { userCacheDir } from '../../run/worktrees.js';
import { CliError, parsePositiveInt } from '../errors.js';
import { createRunBackend } from '../run-options.js';

/** Collects repeated `--agent` values, each one a backend name. */
function collectBackends(value: string, previous: BackendName[] | undefined): BackendName[] {
  if (!isBackendName(value))
    throw new CliError(`--agent ${value}: not a backend; use ${backendNames.join(', ')}`);
  return [...(previous ?? []), value];
}

/** How long a stopping worker lets running agents finish before handing their jobs back. */
const drainMs = 5_000;

/** `maestro worker`: run stream attempts from the run queue in Redis, on this machine. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'Run stream attempts for `maestro run --redis` on this machine: takes jobs from Redis, runs the agent, pushes the commit',
    )
    .requiredOption(
      '--redis <url>',
      'Redis to take jobs from: redis://[:password@]host:port or rediss:// (TLS)',
    )
    .addOption(
      new Option(
        '--agent <name>',
        `an agent backend this worker runs: ${backendNames.join(', ')} (repeatable); jobs for others wait for another worker`,
      )
        .argParser(collectBackends)
        .makeOptionMandatory(),
    )
    .option(
      '--agent-command <cmd>',
      'for --agent command: the shell command run per stream (this worker’s own)',
    )
    .option('--agent-path <file>', 'path of the claude/codex/gemini executable (with one of them as --agent)')
    .option('--concurrency <n>', 'jobs run at once per backend', parsePositiveInt('--concurrency'), 1)
    .option(
      '--work-dir <dir>',
      'cached clones and per-job worktrees (default: $XDG_CACHE_HOME/maestro-worker, else ~/.cache/…)',
    )
    .option(
      '--setup <cmd>',
      'a command run in each worktree before its agent (repeatable; this worker’s own, never a job’s); MAESTRO_PORT and MAESTRO_WORKTREE are set',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--name <name>', 'worker name shown in results and logs (default: host-pid)')
    .addOption(
      new Option(
        '--lock-seconds <s>',
        'a job whose worker stops renewing its lock this long is given to another worker',
      )
        .argParser(parsePositiveInt('--lock-seconds'))
        .default(30),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ maestro worker --redis redis://10.0.0.5:6379 --agent claude --concurrency 4
  $ maestro worker --redis rediss://:$REDIS_PASSWORD@redis.example.com:6380 --agent codex --agent claude
  $ maestro worker --redis redis://127.0.0.1:6379 --agent command --agent-command './my-agent.sh' --work-dir /srv/maestro
  $ maestro worker --redis redis://10.0.0.5:6379 --agent claude --setup 'npm ci' --setup 'cp /srv/secrets/.env .'

The coordinator (\`maestro run PLAN --redis URL --remote origin\`) keeps the plan, the journal, the merges
and the gates; a worker only runs agents. It fetches each job's start commit from the job's git remote
into a cached clone under --work-dir, runs the agent in a worktree of its own with this machine's
credentials (its environment, git credential helpers, SSH keys), commits and pushes the result.
A job names a backend, never a command: the worker runs only the backends, --agent-command and --setup
given here. Worktrees are recycled between jobs (ignored files such as node_modules stay), and --setup
runs again only when the commit's manifests or lockfiles changed. The run's --setup, maestro.config setup
and .worktreeinclude files stay on the coordinator's machine: give each worker its own --setup.

SIGTERM or Ctrl-C: stop taking jobs, let running agents finish for ${String(drainMs / 1000)} s, then hand their
jobs back to the queue and stop them; exit 0.`,
    )
    .action(async (flags) => {
      let redis;
      try {
        redis = parseRedisUrl(flags.redis);
      } catch (error) {
        if (error instanceof RedisUrlError) throw new CliError(error.message);
        throw error;
      }
      const names = [...new Set(flags.agent)];
      const clis: BackendName[] = names.filter((n) => n === 'claude' || n === 'codex' || n === 'gemini');
      if (flags.agentPath !== undefined && clis.length !== 1)
        throw new CliError(
          '--agent-path names one executable: use it with exactly one of --agent claude, codex or gemini',
        );
      if (names.includes('command') && flags.agentCommand === undefined)
        throw new CliError(
          '--agent command needs --agent-command "CMD" (the command this worker runs per stream)',
        );
      const backends = new Map<BackendName, AgentBackend>();
      for (const name of names) {
        backends.set(
          name,
          await createRunBackend({
            agent: name,
            ...(name === 'command' && flags.agentCommand !== undefined
              ? { agentCommand: flags.agentCommand }
              : {}),
            ...(clis.includes(name) && flags.agentPath !== undefined ? { agentPath: flags.agentPath } : {}),
          }),
        );
      }
      const workDir = path.resolve(flags.workDir ?? path.join(userCacheDir(), 'maestro-worker'));
      const log = (line: string) =>
        process.stderr.write(`[maestro worker] ${new Date().toISOString().slice(11, 23)} ${line}\n`);
      const worker = await startWorker({
        redis,
        concurrency: flags.concurrency,
        workDir,
        backends,
        lockMs: flags.lockSeconds * 1000,
        log,
        ...(flags.setup === undefined
          ? {}
          : {
              setup: {
                ...noSetup,
                commands: flags.setup.filter((c) => c.trim() !== ''),
                source: 'flag' as const,
              },
            }),
        ...(flags.name === undefined ? {} : { name: flags.name }),
      });
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals > 1) return;
          log(`${signal}: no new jobs; stopping`);
          void worker.stop(drainMs).then(resolve, (error: unknown) => {
            log(`could not stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      log('stopped');
    });
}
