// shell_environment_policy: which of ocx's environment variables model-run commands see. Steps
// in order: inherit (all | core | none), the default excludes (*KEY*, *SECRET*, *TOKEN*, only
// when ignore_default_excludes = false; the reference's default keeps them), exclude patterns,
// set, include_only patterns. Patterns are globs (* and ?) matched case-insensitively.
import { credentialEnvVars } from "../config/providers.ts";
import { MIN_SECRET_LENGTH } from "../redact.ts";
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime.ts";
import { markNetwork, type SandboxPolicy } from "../sandbox/policy.ts";

type Policy = NonNullable<Config["shell_environment_policy"]>;

const CORE = ["HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL", "TERM"];
const DEFAULT_EXCLUDES = ["*KEY*", "*SECRET*", "*TOKEN*"];

function glob(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

const matcher = (patterns: readonly string[]) => {
  const res = patterns.map(glob);
  return (name: string) => res.some((re) => re.test(name));
};

export function applyEnvPolicy(env: Record<string, string>, policy: Policy = {}): Record<string, string> {
  const inherit = policy.inherit ?? "all";
  let out: Record<string, string> =
    inherit === "all" ? { ...env } : inherit === "core" ? Object.fromEntries(Object.entries(env).filter(([k]) => CORE.includes(k))) : {};
  const drop = (test: (name: string) => boolean) => {
    out = Object.fromEntries(Object.entries(out).filter(([k]) => !test(k)));
  };
  if (policy.ignore_default_excludes === false) drop(matcher(DEFAULT_EXCLUDES));
  if (policy.exclude?.length) drop(matcher(policy.exclude));
  Object.assign(out, policy.set ?? {});
  if (policy.include_only?.length) {
    const keep = matcher(policy.include_only);
    drop((k) => !keep(k));
  }
  return out;
}

/**
 * The environment model-run commands (and `ocx sandbox run`) see: the user's, shaped by
 * shell_environment_policy, minus every credential ocx holds or knows the variable of.
 */
export function commandEnv(
  runtime: Runtime,
  config: Config,
  o: { providerId: string; threadId?: string; sandbox: SandboxPolicy; secrets: readonly string[] },
): Record<string, string> {
  const env = applyEnvPolicy(runtime.envAll(), config.shell_environment_policy);
  for (const name of credentialEnvVars(config, o.providerId)) delete env[name];
  // Whatever else holds a credential in use (OPENAI_API_KEY with the same key, an exported token)
  const held = new Set<string>();
  for (const s of o.secrets) if (s.length >= MIN_SECRET_LENGTH) held.add(s);
  if (held.size > 0) for (const name in env) if (held.has(env[name]!.trim())) delete env[name];
  env.CODEX_CI = "1";
  if (o.threadId) env.CODEX_THREAD_ID = o.threadId;
  return markNetwork(env, o.sandbox);
}
