/** Finding 7 (units): token shapes and secret env values are redacted; agents inherit only their vendor's key. */
import { describe, expect, it } from 'vitest';
import { agentEnvironment } from '../../src/agents/env.js';
import { Redactor } from '../../src/util/redact.js';
import { fakeSecrets } from '../helpers/secrets.js';

describe('redaction', () => {
  it('replaces every known token shape', () => {
    const r = new Redactor({});
    for (const [name, secret] of Object.entries(fakeSecrets)) {
      const out = r.text(`token for ${name}: ${secret} (end)`);
      expect(out, name).toContain('[redacted]');
      expect(out, name).not.toContain(secret.replace(/^Bearer /, ''));
      expect(out, name).toMatch(/^token for .*: .*\(end\)$/);
    }
    expect(r.text(`Authorization: ${fakeSecrets.bearer}`)).toBe('Authorization: Bearer [redacted]');
  });

  it('replaces the values of secret-looking environment variables, not ordinary text', () => {
    const r = new Redactor({
      MY_DB_PASSWORD: 'hunter2-correct-horse',
      SERVICE_TOKEN: 'tok_live_998877',
      PATH: '/usr/bin',
      DEBUG_KEY: '1',
    });
    expect(r.text('connect with hunter2-correct-horse and tok_live_998877 via /usr/bin')).toBe(
      'connect with [redacted] and [redacted] via /usr/bin',
    );
    // Ordinary words and file names are left alone.
    expect(r.text('see src/task-runner.ts, the sk-learn docs and Bearer auth')).toBe(
      'see src/task-runner.ts, the sk-learn docs and Bearer auth',
    );
    expect(r.deep({ a: [`x ${fakeSecrets.aws}`], n: 3 })).toEqual({ a: ['x [redacted]'], n: 3 });
  });
});

describe('agent environment', () => {
  const base = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    ANTHROPIC_API_KEY: 'a',
    OPENAI_API_KEY: 'o',
    GEMINI_API_KEY: 'g',
    AWS_SECRET_ACCESS_KEY: 's',
    AWS_ACCESS_KEY_ID: 'i',
    GITHUB_TOKEN: 't',
    MY_PASSWORD: 'p',
    CLAUDE_CONFIG_DIR: '/c',
  };

  it('gives each backend its own vendor key and the ordinary environment only', () => {
    expect(Object.keys(agentEnvironment('claude', base)).sort()).toEqual([
      'ANTHROPIC_API_KEY',
      'CLAUDE_CONFIG_DIR',
      'HOME',
      'PATH',
    ]);
    expect(Object.keys(agentEnvironment('codex', base)).sort()).toEqual([
      'CLAUDE_CONFIG_DIR',
      'HOME',
      'OPENAI_API_KEY',
      'PATH',
    ]);
    expect(Object.keys(agentEnvironment('gemini', base)).sort()).toEqual([
      'CLAUDE_CONFIG_DIR',
      'GEMINI_API_KEY',
      'HOME',
      'PATH',
    ]);
    expect(Object.keys(agentEnvironment('command', base)).sort()).toEqual([
      'CLAUDE_CONFIG_DIR',
      'HOME',
      'PATH',
    ]);
  });

  it('follows the config: pass adds, drop removes, drop wins', () => {
    const env = agentEnvironment('claude', base, {
      pass: ['AWS_*', 'GITHUB_TOKEN'],
      drop: ['AWS_SECRET_*', 'HOME'],
    });
    expect(Object.keys(env).sort()).toEqual([
      'ANTHROPIC_API_KEY',
      'AWS_ACCESS_KEY_ID',
      'CLAUDE_CONFIG_DIR',
      'GITHUB_TOKEN',
      'PATH',
    ]);
  });
});
