/**
 * What environment an agent inherits. By default each backend gets the ordinary environment and its
 * own vendor's credentials, not other vendors' keys or cloud credentials (an agent that prints its
 * environment, or a prompt injection that asks it to, cannot leak what it never had). The config's
 * `env.pass` / `env.drop` lists (names, `*` wildcards) override the default; `drop` wins.
 */
import { SECRET_NAME } from '../util/redact.js';

/** The config file's `env` setting. */
export interface EnvPolicy {
  /** Variables always passed (e.g. `AWS_*` for an agent that deploys). */
  readonly pass?: readonly string[];
  /** Variables never passed. */
  readonly drop?: readonly string[];
}

/** Each backend's own vendor: the variables it needs to log in and reach its API. */
const VENDOR_VARIABLES: Readonly<Record<string, RegExp>> = {
  claude: /^(?:ANTHROPIC_|CLAUDE_|CLAUDECODE)/,
  codex: /^(?:OPENAI_|CODEX_|AZURE_OPENAI_)/,
  gemini: /^(?:GEMINI_|GOOGLE_GEMINI_|GOOGLE_GENAI_|GOOGLE_API_KEY$|GOOGLE_CLOUD_PROJECT$)/,
};

/** Credentials of cloud providers, forges and registries: never inherited by default, whatever their names. */
const CREDENTIALS =
  /^(?:AWS_|AZURE_|ARM_|GOOGLE_APPLICATION_CREDENTIALS$|GCP_|GCLOUD_|CLOUDSDK_|DIGITALOCEAN_|HEROKU_|VAULT_|DOCKER_AUTH|KUBECONFIG$|ANTHROPIC_|OPENAI_|GEMINI_|GOOGLE_API_KEY$|GOOGLE_GENAI_|GH_|GITHUB_TOKEN$|GITLAB_|NPM_TOKEN$|NODE_AUTH_TOKEN$|HF_|HUGGING_FACE|REPLICATE_|MISTRAL_|COHERE_|GROQ_|DEEPSEEK_|XAI_|OPENROUTER_)/;

/** True when `name` matches one of the names or `*` patterns. */
function matches(name: string, patterns: readonly string[] | undefined): boolean {
  return (patterns ?? []).some((p) =>
    new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(name),
  );
}

/** True when the default policy keeps `name` from an agent of backend `backend`. */
function withheldByDefault(backend: string, name: string): boolean {
  if (VENDOR_VARIABLES[backend]?.test(name) === true) return false;
  return CREDENTIALS.test(name) || SECRET_NAME.test(name);
}

/** The environment for an agent of `backend` (`claude`, `codex`, `gemini`, `command`, `demo`). */
export function agentEnvironment(
  backend: string,
  base: NodeJS.ProcessEnv,
  policy: EnvPolicy = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || matches(name, policy.drop)) continue;
    if (matches(name, policy.pass) || !withheldByDefault(backend, name)) env[name] = value;
  }
  return env;
}

/** Names of the variables the policy withholds from `backend` (for `--help`-style explanations and tests). */
export function withheldVariables(
  backend: string,
  base: NodeJS.ProcessEnv,
  policy: EnvPolicy = {},
): string[] {
  const kept = agentEnvironment(backend, base, policy);
  return Object.keys(base)
    .filter((name) => base[name] !== undefined && !(name in kept))
    .sort();
}
