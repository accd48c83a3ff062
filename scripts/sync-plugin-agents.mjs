// Keeps the Claude Code plugin's copies in step with their sources (one source of truth each):
//   roles/<name>.md  → agents/<name>.md       (front matter cut to the keys Claude Code knows)
//   skill/SKILL.md   → skills/maestro/SKILL.md (byte for byte)
// `--check` writes nothing and exits 1 when a copy is missing, stale or orphaned.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';

const root = new URL('../', import.meta.url);
const check = process.argv.includes('--check');
const marker = '<!-- Generated from roles/';
/** Sub-agent front matter keys Claude Code reads; Maestro-only keys (e.g. `report`) stay out of the plugin. */
const agentKeys = ['name', 'description', 'tools', 'model'];

/** Splits `---\nYAML\n---\nbody` into its parts. */
function frontMatter(text, file) {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (match === null) throw new Error(`${file}: no YAML front matter`);
  return { data: parse(match[1]) ?? {}, body: match[2] };
}

/** The plugin agent file for one role file. */
function agentFile(roleText, roleFile) {
  const { data, body } = frontMatter(roleText, roleFile);
  if (typeof data.name !== 'string' || typeof data.description !== 'string') {
    throw new Error(`${roleFile}: front matter needs a name and a description`);
  }
  const kept = Object.fromEntries(agentKeys.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]));
  const note = `${marker}${roleFile.split('/').at(-1)} by scripts/sync-plugin-agents.mjs; edit the role file instead. -->`;
  return {
    name: data.name,
    text: `---\n${stringify(kept, { lineWidth: 0 })}---\n${note}\n\n${body.replace(/^\n+/, '')}`,
  };
}

/** Every file the plugin should contain, by repository-relative path. */
async function expected() {
  const files = new Map();
  const roles = (await readdir(new URL('roles/', root))).filter((n) => n.endsWith('.md')).sort();
  for (const name of roles) {
    const roleFile = `roles/${name}`;
    const agent = agentFile(await readFile(new URL(roleFile, root), 'utf8'), roleFile);
    files.set(`agents/${agent.name}.md`, agent.text);
  }
  files.set('skills/maestro/SKILL.md', await readFile(new URL('skill/SKILL.md', root), 'utf8'));
  return files;
}

const want = await expected();
const problems = [];
for (const [rel, text] of want) {
  const current = await readFile(new URL(rel, root), 'utf8').catch(() => null);
  if (current === text) continue;
  if (check) problems.push(`${rel} is ${current === null ? 'missing' : 'out of date'}`);
  else {
    await mkdir(new URL('.', new URL(rel, root)), { recursive: true });
    await writeFile(new URL(rel, root), text);
    console.log(`wrote ${rel}`);
  }
}
// Generated agents whose role file is gone.
const existing = await readdir(new URL('agents/', root)).catch(() => []);
for (const name of existing) {
  const rel = `agents/${name}`;
  if (want.has(rel) || !name.endsWith('.md')) continue;
  const text = await readFile(new URL(rel, root), 'utf8');
  if (!text.includes(marker)) continue;
  if (check) problems.push(`${rel} has no role file any more`);
  else {
    await rm(new URL(rel, root));
    console.log(`removed ${rel}`);
  }
}
for (const problem of problems) console.error(`${problem}; run: node scripts/sync-plugin-agents.mjs`);
process.exit(problems.length > 0 ? 1 : 0);
