// Model providers: the built-in ones plus [model_providers.NAME] from config, resolved into the
// ProviderInfo the model client needs (credentials included).
import { trimTrailingSlashes } from "../util/format.ts";
import { OcxError } from "../errors.ts";
import type { ProviderAuth, ProviderInfo } from "../model/types.ts";
import type { Runtime } from "../runtime.ts";
import { bearer, openAiAuth } from "../auth/credentials.ts";
import { DEFAULT_CHATGPT_BASE_URL } from "../auth/oauth.ts";
import { isLocalProvider, localBaseUrl } from "./oss.ts";
import type { Config, ProviderConfig } from "./schema.ts";

export const DEFAULT_MODEL = "gpt-5.5";
export const DEFAULT_PROVIDER = "openai";

const BUILT_IN: Record<string, ProviderConfig> = {
  openai: { name: "OpenAI", base_url: "https://api.openai.com/v1", wire_api: "responses", requires_openai_auth: true },
  ollama: { name: "Ollama", base_url: "http://localhost:11434/v1", wire_api: "responses" },
  lmstudio: { name: "LM Studio", base_url: "http://localhost:1234/v1", wire_api: "responses" },
};

const DEFAULTS = { requestMaxRetries: 4, streamMaxRetries: 5, streamIdleTimeoutMs: 300_000 };

/** The provider's config entry, without touching credentials. */
export function providerConfig(config: Config, id: string, runtime?: Runtime): ProviderConfig {
  const custom = config.model_providers?.[id];
  const builtIn = BUILT_IN[id];
  if (!custom && !builtIn) {
    const known = [...Object.keys(BUILT_IN), ...Object.keys(config.model_providers ?? {})].join(", ");
    throw new OcxError(
      "config",
      `Model provider \`${id}\` not found; define [model_providers.${id}] in config.toml or use one of: ${known}`,
    );
  }
  const merged: ProviderConfig = { ...builtIn, ...custom };
  if (isLocalProvider(id) && !custom?.base_url && runtime) merged.base_url = localBaseUrl(runtime, id);
  if (id === "openai" && config.openai_base_url) merged.base_url = config.openai_base_url;
  return merged;
}

export async function resolveProvider(
  runtime: Runtime,
  config: Config,
  codexHome: string,
  id: string,
  warn: (message: string) => void = () => {},
): Promise<ProviderInfo> {
  const p = providerConfig(config, id, runtime);
  if (!p.base_url) {
    throw new OcxError("config", `Model provider \`${id}\` has no base_url; set model_providers.${id}.base_url in config.toml`);
  }
  const { auth, chatgpt } = await resolveAuth(runtime, config, p, id, codexHome, warn);
  let baseUrl = p.base_url;
  // A ChatGPT sign-in talks to the ChatGPT backend, unless the openai base URL was set explicitly.
  if (chatgpt && id === "openai" && !config.model_providers?.openai?.base_url && !config.openai_base_url) {
    baseUrl = `${trimTrailingSlashes(config.chatgpt_base_url ?? DEFAULT_CHATGPT_BASE_URL)}/codex`;
  }
  const headers: Record<string, string> = { ...p.http_headers };
  for (const [header, envVar] of Object.entries(p.env_http_headers ?? {})) {
    const value = runtime.env(envVar);
    if (value) headers[header] = value;
  }
  return {
    id,
    name: p.name ?? id,
    baseUrl: trimTrailingSlashes(baseUrl),
    wireApi: p.wire_api ?? "responses",
    auth,
    headers,
    queryParams: { ...p.query_params },
    requestMaxRetries: p.request_max_retries ?? DEFAULTS.requestMaxRetries,
    streamMaxRetries: p.stream_max_retries ?? DEFAULTS.streamMaxRetries,
    streamIdleTimeoutMs: p.stream_idle_timeout_ms ?? DEFAULTS.streamIdleTimeoutMs,
    // Unset bounds take the model client's defaults.
    retryAfterMaxMs: p.retry_after_max_ms,
    streamMaxDurationMs: p.stream_max_duration_ms,
    streamMaxBytes: p.stream_max_bytes,
    streamMaxEventBytes: p.stream_max_event_bytes,
  };
}

async function resolveAuth(
  runtime: Runtime,
  config: Config,
  p: ProviderConfig,
  id: string,
  codexHome: string,
  warn: (message: string) => void,
): Promise<{ auth?: ProviderAuth; chatgpt: boolean }> {
  if (p.env_key) {
    const value = runtime.env(p.env_key)?.trim();
    if (value) return { auth: bearer(value), chatgpt: false };
    const hint = p.env_key_instructions ? ` ${p.env_key_instructions}` : "";
    throw new OcxError(
      "auth",
      `Missing environment variable: \`${p.env_key}\` (the API key of model provider \`${id}\`); set it and run again.${hint}`,
    );
  }
  if (p.requires_openai_auth) return openAiAuth(runtime, config, codexHome, warn);
  return { chatgpt: false };
}

/**
 * The credential variables kept out of MCP servers' environments: the two key variables (also
 * when their value is not the key in use) and the configured provider's own.
 */
export function mcpCredentialVars(config: Config): string[] {
  return ["CODEX_API_KEY", "OPENAI_API_KEY", ...credentialEnvVars(config, config.model_provider ?? DEFAULT_PROVIDER)];
}

/** The names of environment variables holding credentials ocx uses (kept out of commands). */
export function credentialEnvVars(config: Config, id: string): string[] {
  const names = ["CODEX_API_KEY"];
  const envKey = providerConfig(config, id).env_key;
  if (envKey) names.push(envKey);
  return names;
}
