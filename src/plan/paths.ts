/**
 * Decides whether a token names a repository file, and normalises it
 * (no backticks, no leading `./`, no `:line` suffix).
 */

const KNOWN_EXTENSIONS = new Set(
  (
    'ts tsx js jsx mjs cjs mts cts py pyi rb go rs java kt kts swift c h cc cpp hpp hh cs fs vb php pl lua r ' +
    'scala clj ex exs erl hs ml dart zig nim sql graphql gql proto md mdx rst txt adoc json jsonc json5 yaml yml ' +
    'toml ini cfg conf env lock xml html htm css scss sass less styl vue svelte astro sh bash zsh fish ps1 bat ' +
    'cmd tf tfvars hcl bicep dockerfile mk cmake gradle csproj sln fsproj vbproj props targets razor cshtml ' +
    'ipynb kql mmd svg png jpg jpeg gif ico webp pdf csv tsv parquet wasm plist gemspec podspec storyboard ' +
    'xib entitlements pbxproj prisma gitignore dockerignore npmrc nvmrc editorconfig eslintrc prettierrc ' +
    'babelrc baseline template tpl j2 jinja ejs hbs mustache liquid twig pug njk rake gemfile'
  ).split(' '),
);

/** File names that have no extension but are clearly files. */
const EXTENSIONLESS =
  /^(?:Makefile|Dockerfile|Containerfile|Procfile|Gemfile|Rakefile|Justfile|Vagrantfile|Jenkinsfile|Brewfile|LICENSE|README|CHANGELOG|CODEOWNERS|OWNERS)$/;

/** Dotfiles that are files (not `.js` extensions or `.className` selectors). */
const DOTFILES =
  /^\.(?:gitignore|gitattributes|gitmodules|dockerignore|npmrc|nvmrc|yarnrc|editorconfig|eslintrc|eslintignore|prettierrc|prettierignore|babelrc|env|envrc|htaccess|mailmap|nojekyll|tool-versions|python-version|ruby-version|node-version|flake8|pylintrc|coveragerc|browserslistrc|stylelintrc|swcrc|terraformrc)(?:\.[\w.-]+)?$|^\.[\w-]+\.(?:ya?ml|json|toml|js|cjs|mjs|ts|baseline|example|sample|template|local)$/;

/** Library names written like files (`Next.js`) that are not paths. */
const LIBRARY_NAMES =
  /^(?:node|next|vue|nuxt|react|three|express|d3|chart|socket\.io|moment|backbone|ember|alpine|p5|anime|pixi|babylon|deno|solid|preact|ember|angular|nest|knockout|mocha|electron)\.js$/i;

/**
 * A backticked path with spaces (`docs/Read Me.md`): a folder, words without flags or shell
 * characters, and a file extension at the end.
 */
const SPACED_PATH_RE =
  /^(?![^/]*\s[^/]*\/)(?:[^\s/|&;<>$`]+\/)+[^/|&;<>$`]*\s[^/|&;<>$`]*\.[A-Za-z][A-Za-z0-9]{0,11}$/u;
/** `{mod,entry}` in a path: a brace glob's alternatives. */
const BRACE_GLOB_RE = /\{[^{}\s/]+(?:,[^{}\s/]+)+\}/g;

/** Options for `normalisePath`. */
export interface PathOptions {
  /** Accept a directory (`src/analysis/`): only entries of file lists name directories as deliverables. */
  readonly allowDirectory?: boolean;
  /** The token was written in backticks, so a bare `config.ts` is a deliberate file name. */
  readonly quoted?: boolean;
}

/** Returns the normalised path when `token` names a file (or an allowed directory), else null. */
export function normalisePath(token: string, options: PathOptions = {}): string | null {
  let path = token.trim().replace(/^[`'"*_[(<]+|[`'"*_\])>]+$/g, '');
  path = path.replace(/[.,;:!?]+$/, '');
  path = path.replace(/:(?:\d+)(?:[-:]\d+)?$/, '').replace(/#L\d+(?:-L?\d+)?$/, '');
  path = path.replace(/^\.\//, '');
  if (path.length < 2 || path.length > 240) return null;
  if (options.quoted === true && /\s/.test(path)) {
    // `scripts/export.py awq`: a command argument after the path is not part of it.
    const first = normalisePath(path.split(/\s+/)[0] ?? '', options);
    if (first !== null) return first;
    if (!SPACED_PATH_RE.test(path)) return null;
  } else if (/\s/.test(path)) return null;
  // Quoted paths may hold apostrophes (`config/it's.json`); brace globs (`src/{a,b}.rs`) are kept as globs.
  const checked = (options.quoted === true ? path.replace(/'/g, '') : path).replace(BRACE_GLOB_RE, 'x');
  if (/:\/\/|^www\.|^mailto:|@|^\$|^-|[()=<>{}|;,'"`\\]|\.\.\.$/.test(checked)) return null;
  if (/^[a-z][\w-]*:/.test(path) && !/^[A-Za-z]:[\\/]/.test(path)) return null;
  const isDirectory = path.endsWith('/');
  if (isDirectory) {
    if (!options.allowDirectory) return null;
    return /[A-Za-z]/.test(path) && !/^\/+$/.test(path) ? path : null;
  }
  const name = path.split('/').pop() ?? '';
  const hasSlash = path.includes('/');
  if (name.includes('*')) return hasSlash || /\*\.\w+$/.test(name) ? path : null;
  if (EXTENSIONLESS.test(name)) return path;
  const dot = name.lastIndexOf('.');
  // Entries of a file list may name extensionless files outside the repo (`/etc/passwd`): the analyzer reports those.
  if (dot < 0)
    return options.allowDirectory &&
      /^(?:\/|\.\.\/|~\/)/.test(path) &&
      /^[\w./~-]+$/.test(path) &&
      /[a-z]/i.test(name)
      ? path
      : null;
  const extension = name.slice(dot + 1).toLowerCase();
  if (!/^[a-z][a-z0-9_-]{0,11}$/.test(extension)) return null;
  if (dot === 0) {
    // `.gitignore` is a file; `.js` on its own is an extension and `.contextPanel` a CSS class.
    return DOTFILES.test(name) ? path : null;
  }
  if (
    /^\.d\.ts$|^\.[a-z]{1,4}\.[a-z]{1,4}$/.test(name) &&
    KNOWN_EXTENSIONS.has(name.slice(1, name.indexOf('.', 1)))
  )
    return null;
  if (!options.quoted && !KNOWN_EXTENSIONS.has(extension)) return null;
  if (!options.quoted && !hasSlash && /^[A-Z]/.test(name) && extension === 'js') return null;
  if (path.split('/').some((segment) => LIBRARY_NAMES.test(segment))) return null;
  if (!hasSlash && LIBRARY_NAMES.test(name)) return null;
  if (!hasSlash && !KNOWN_EXTENSIONS.has(extension)) return null;
  // Rust/Python member paths (`os.path`, `crate::x`) and version numbers are not files.
  if (!hasSlash && !options.quoted && /^[a-z]+$/.test(name.slice(0, dot)) && extension.length > 4)
    return null;
  return path;
}

/** True when a path contains glob characters. */
export function isGlob(path: string): boolean {
  return /[*?[\]{}]/.test(path);
}

/**
 * Why a plan path must never be a stream's file although it is inside the repository, or null:
 * git's own data (`.git/`, at any depth: submodules too), Maestro's run data (`.maestro/`), or the
 * whole repository (`.`). Pure: directories and symlinks on disk are checked by the analyser's I/O.
 */
export function reservedPath(path: string): string | null {
  const normal = path.replace(/\\/g, '/').replace(/\/+/g, '/');
  const segments = normal.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) return 'the whole repository';
  const lower = segments.map((s) => s.toLowerCase());
  // Case-insensitive: on macOS and Windows `.GIT/config` is the same file.
  if (lower.includes('.git')) return "inside .git/, git's own data";
  if (lower[0] === '.maestro') return "inside .maestro/, Maestro's run data";
  return null;
}
