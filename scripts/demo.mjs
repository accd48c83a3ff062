// The README quick start: runs Maestro's whole pipeline on the bundled seed-like example plan,
// in a fresh temporary git repository, with the deterministic `demo` agent (no account needed).
// usage: npm run demo [-- --keep]
// The repository is removed at the end unless --keep is given; then nothing printed points into it
// (no repository path, report path or "take the result" command). With --keep it says where it is.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const keep = process.argv.includes('--keep');
const repo = mkdtempSync(join(tmpdir(), 'maestro-demo-'));
// A fixed identity so the demo never depends on the user's global git config.
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Maestro Demo',
  GIT_AUTHOR_EMAIL: 'demo@maestro.invalid',
  GIT_COMMITTER_NAME: 'Maestro Demo',
  GIT_COMMITTER_EMAIL: 'demo@maestro.invalid',
};
const git = (...args) => execFileSync('git', args, { cwd: repo, env, stdio: 'pipe' });

// The files the plan says it modifies already exist in the project it was written for.
const existing = {
  'README.md': '# Document service\n',
  'app/models/document.py': 'class Document:\n    pass\n',
  'app/schemas/document.py': 'class DocumentSchema:\n    pass\n',
  'app/services/documents.py': 'def get_document(document_id):\n    return None\n',
  'app/services/search.py': 'def search(q):\n    return []\n',
  'app/api/routes/documents.py': 'routes = []\n',
  'app/api/router.py': 'router = None\n',
};
for (const [path, text] of Object.entries(existing)) {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
}
copyFileSync(join(root, 'examples', 'seed-plan.md'), join(repo, 'plan.md'));
git('init', '-q', '-b', 'main');
git('add', '-A');
git('commit', '-qm', 'Initial commit');

if (keep) console.log(`Demo repository (kept): ${repo}\n`);
// Lines of Maestro's summary that point into the repository, which is about to be removed.
const intoRepo = /^(Report|Take the result|Integration branch): /;
const run = async (args) => {
  console.log(`$ maestro ${args.join(' ')}\n`);
  // With --keep, Maestro owns the terminal (the live view on a TTY); else its output is passed on line by
  // line without the lines that name the removed repository's files.
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: repo,
    env,
    stdio: ['inherit', keep ? 'inherit' : 'pipe', 'inherit'],
  });
  if (!keep) {
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (!intoRepo.test(line)) process.stdout.write(`${line}\n`);
    });
    child.stdout.on('end', () => {
      if (rest !== '' && !intoRepo.test(rest)) process.stdout.write(rest);
    });
  }
  const [code] = await new Promise((resolve) => child.on('close', (...r) => resolve(r)));
  console.log('');
  return code ?? 1;
};
let status = await run(['analyze', 'plan.md']);
if (status === 0) status = await run(['run', 'plan.md', '--agent', 'demo', '--yes', '--land']);
if (status === 0) {
  console.log('Files on main after landing:');
  console.log(
    execFileSync('git', ['ls-tree', '-r', '--name-only', 'HEAD'], { cwd: repo, env, encoding: 'utf8' }),
  );
}
if (keep) {
  console.log(`Kept the demo repository: ${repo}`);
} else {
  rmSync(repo, { recursive: true, force: true });
  console.log('The demo repository was removed; `npm run demo -- --keep` keeps it and says where it is.');
}
process.exit(status);
