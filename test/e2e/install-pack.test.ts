/**
 * End-to-end: the README's install path for a package that is not on the registry. `npm pack` the
 * clone, install the tarball into an empty global prefix, and use only that copy (PATH holds the
 * prefix's bin, node and the system; the working directories are outside the clone): the commands
 * start, and the files they read at run time (roles, prices, the init example, the demo agent, the
 * skill, the schemas) were shipped.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/analyze/types.js';
import { gitIdentityEnv, gitSync, makeTempDir } from '../helpers/repo.js';

const exec = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const version = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('npm pack, installed from the tarball', () => {
  it('installs maestro and plan-maestro that run from the installed copy alone', async () => {
    const tmp = makeTempDir('maestro-pack-');
    cleanups.push(tmp.cleanup);
    const prefix = path.join(tmp.dir, 'prefix');

    const packed = await exec('npm', ['pack', '--json', '--pack-destination', tmp.dir], {
      cwd: projectRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    if (info === undefined) throw new Error(`npm pack printed no package:\n${packed.stdout}`);
    const shipped = info.files.map((f) => f.path);
    // Nothing the tests or the tooling need is shipped; everything the commands read is.
    expect(shipped.filter((f) => /^(test|src|bench|scripts|node_modules)\//.test(f))).toEqual([]);

    // An empty prefix, as on a machine that never had Maestro; dependencies come from npm's cache when
    // it has them (the clone's `npm ci` filled it), else from the registry.
    await exec(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        path.join(tmp.dir, info.filename),
      ],
      { cwd: tmp.dir, maxBuffer: 16 * 1024 * 1024 },
    );
    const installed = path.join(prefix, 'lib', 'node_modules', 'plan-maestro');
    // A copy, not a link back into the clone.
    expect(realpathSync(installed).startsWith(realpathSync(tmp.dir))).toBe(true);
    for (const file of [
      'dist/builtin-roles.json',
      'dist/agents/demo-agent.js',
      'roles/testing.md',
      'data/prices.json',
      'examples/init-plan.md',
      'examples/seed-plan.md',
      'skill/SKILL.md',
      'schema/maestro.config.schema.json',
      'schema/plan-settings.schema.json',
      '.claude-plugin/plugin.json',
      'README.md',
    ]) {
      expect(existsSync(path.join(installed, file)), file).toBe(true);
    }

    // Only the installed commands on PATH: no clone, no node_modules/.bin.
    const env = {
      ...process.env,
      ...gitIdentityEnv,
      NO_COLOR: '1',
      PATH: [path.join(prefix, 'bin'), path.dirname(process.execPath), '/usr/bin', '/bin'].join(
        path.delimiter,
      ),
    };
    const work = path.join(tmp.dir, 'project');
    gitSync(tmp.dir, ['init', '-q', '-b', 'main', work]);
    const maestro = (cmd: string, args: readonly string[]) =>
      exec(cmd, [...args], { cwd: work, env, maxBuffer: 16 * 1024 * 1024 });

    const help = await maestro('maestro', ['--help']);
    expect(help.stdout).toMatch(/Usage: maestro/);
    expect(help.stdout).toContain('analyze');
    expect((await maestro('plan-maestro', ['--version'])).stdout.trim()).toBe(version);

    // analyze reads the built-in roles and the price table from the installed copy.
    const analysed = await maestro('maestro', [
      'analyze',
      path.join(installed, 'examples', 'seed-plan.md'),
      '--json',
    ]);
    const a = JSON.parse(analysed.stdout) as Analysis;
    expect(a.streams).toHaveLength(7);
    expect(new Set(a.streams.map((s) => s.role)).size).toBeGreaterThan(3);
    expect(a.estimate.costUsd).toBeGreaterThan(0);

    // init writes the shipped example, and the shipped demo agent runs it.
    await maestro('maestro', ['init']);
    expect(readFileSync(path.join(work, 'plan.md'), 'utf8')).toBe(
      readFileSync(path.join(installed, 'examples', 'init-plan.md'), 'utf8'),
    );
    gitSync(work, ['add', '-A']);
    gitSync(work, ['commit', '-q', '-m', 'plan']);
    const run = await maestro('maestro', ['run', 'plan.md', '--agent', 'demo', '--yes', '--no-live']);
    expect(run.stdout).toMatch(/Run \S+: completed/);

    // The skill comes from the installed copy too.
    await maestro('maestro', ['skill', 'install', '--project']);
    expect(readFileSync(path.join(work, '.claude', 'skills', 'maestro', 'SKILL.md'), 'utf8')).toBe(
      readFileSync(path.join(installed, 'skill', 'SKILL.md'), 'utf8'),
    );
  }, 600_000);
});
