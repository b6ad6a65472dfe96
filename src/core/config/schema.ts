// config.toml as ocx understands it. Unknown keys are dropped (strict mode comes with the config
// issue); known keys are validated so a wrong type is reported with its key and what was expected.
// Every schema is built when first used (util/once.ts): a config names a handful of the keys, and
// building all of them costs a compiled binary about a millisecond of its start-up.
import * as v from "valibot";
import { parseDuration } from "../util/duration.ts";
import { once } from "../util/once.ts";

const stringRecord = once(() => v.record(v.string(), v.string()));
/** A budget: a whole number above zero. */
const positive = once(() => v.pipe(v.number(), v.integer("expected a whole number above 0"), v.minValue(1, "expected a whole number above 0"), v.maxValue(Number.MAX_SAFE_INTEGER)));
/** A duration: "90s", "15m", "1h30m", or a number of seconds; above zero. */
const duration = once(() => v.pipe(
  v.union([v.number(), v.string()], 'expected a duration like "90s", "15m", "1h" or a number of seconds'),
  v.check((d) => {
    const ms = typeof d === "number" ? d * 1000 : parseDuration(d, "s");
    return ms !== undefined && Number.isFinite(ms) && Math.round(ms) > 0;
  }, 'expected a duration above zero like "90s", "15m", "1h" or a number of seconds'),
));

/** A URL a request can go to: http:// or https:// (anything else would only fail after retries). */
const httpUrl = once(() => v.pipe(
  v.string(),
  v.check((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "http:" || u.protocol === "https:") && u.host !== "";
    } catch {
      return false;
    }
  }, (issue) => `expected an http:// or https:// URL such as "http://127.0.0.1:8000/v1", got ${JSON.stringify(issue.input)}`),
));
/**
 * v.picklist, checked without building one: a picklist's factory maps over its options, and that
 * first use of Array#map costs a compiled binary 0.1-0.2 ms before the first request. A value
 * that is not one of the options is reported with the picklist's own message, made then.
 */
function choice<const T extends readonly string[]>(options: T) {
  return v.custom<T[number]>(
    (input) => options.includes(input as T[number]),
    (issue) => v.safeParse(v.picklist(options), issue.input).issues?.[0]?.message ?? issue.message,
  );
}

/** A price in USD per million tokens: zero or more. */
const price = once(() => v.pipe(v.number("expected a price in USD per million tokens"), v.check((n) => Number.isFinite(n) && n >= 0, "expected a price of 0 or more (USD per million tokens)")));
const count = once(() => v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100)));

/**
 * An object schema whose entries are built for the keys its input names (in the builders'
 * order), as configSchema does for the top level: an absent key is neither checked nor in the
 * output, so the output and the first issue are the same as with every entry. A provider table
 * names three or four of its sixteen keys.
 */
function namedEntriesObject<B extends Record<string, () => v.GenericSchema>>(builders: B) {
  type Entries = { -readonly [K in keyof B]: ReturnType<B[K]> };
  const built: Partial<Entries> = {};
  return v.lazy((input: unknown) => {
    const entries: Partial<Entries> = {};
    if (input !== null && typeof input === "object") {
      for (const key in builders) if (Object.hasOwn(input, key)) entries[key] = built[key] ??= builders[key]!() as Entries[typeof key];
    }
    return v.object(entries as Entries);
  });
}

const providerConfig = once(() => namedEntriesObject({
  name: () => v.optional(v.string()),
  base_url: () => v.optional(httpUrl()),
  env_key: () => v.optional(v.string()),
  env_key_instructions: () => v.optional(v.string()),
  wire_api: () => v.optional(choice(["responses", "chat"])),
  query_params: () => v.optional(stringRecord()),
  http_headers: () => v.optional(stringRecord()),
  env_http_headers: () => v.optional(stringRecord()),
  request_max_retries: () => v.optional(count()),
  stream_max_retries: () => v.optional(count()),
  stream_idle_timeout_ms: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Bounds (ocx): the longest Retry-After waited for, one response's duration, bytes and largest event. */
  retry_after_max_ms: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  stream_max_duration_ms: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  stream_max_bytes: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  stream_max_event_bytes: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  requires_openai_auth: () => v.optional(v.boolean()),
}));
export type ProviderConfig = v.InferOutput<ReturnType<typeof providerConfig>>;

const seconds = once(() => v.pipe(v.number(), v.minValue(0)));
const approvalMode = once(() => choice(["auto", "prompt", "approve"]));

/** One `[mcp_servers.<name>]` table: stdio (command) or streamable HTTP (url), as the reference names the keys. */
const mcpServerConfig = once(() => v.pipe(
  v.object({
    command: v.optional(v.string()),
    args: v.optional(v.array(v.string())),
    env: v.optional(stringRecord()),
    env_vars: v.optional(v.array(v.string())),
    cwd: v.optional(v.string()),
    url: v.optional(httpUrl()),
    bearer_token_env_var: v.optional(v.string()),
    http_headers: v.optional(stringRecord()),
    env_http_headers: v.optional(stringRecord()),
    enabled: v.optional(v.boolean()),
    required: v.optional(v.boolean()),
    startup_timeout_sec: v.optional(seconds()),
    startup_timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    tool_timeout_sec: v.optional(seconds()),
    enabled_tools: v.optional(v.array(v.string())),
    disabled_tools: v.optional(v.array(v.string())),
    default_tools_approval_mode: v.optional(approvalMode()),
    tools: v.optional(v.record(v.string(), v.object({ approval_mode: v.optional(approvalMode()) }))),
  }),
  v.check((s) => (s.command === undefined) !== (s.url === undefined), "expected either `command` (a stdio server) or `url` (a streamable HTTP server)"),
));
export type McpServerConfig = v.InferOutput<ReturnType<typeof mcpServerConfig>>;

/** The keys of config.toml, each with a builder of its schema. */
const CONFIG_ENTRIES = {
  model: () => v.optional(v.string()),
  model_provider: () => v.optional(v.string()),
  model_providers: () => v.optional(v.record(v.string(), providerConfig())),
  openai_base_url: () => v.optional(httpUrl()),
  /** ChatGPT sign-in: the OAuth issuer and client, and the backend the model requests go to. */
  chatgpt_issuer: () => v.optional(v.string()),
  chatgpt_client_id: () => v.optional(v.string()),
  chatgpt_base_url: () => v.optional(httpUrl()),
  forced_login_method: () => v.optional(choice(["api", "chatgpt"])),
  model_reasoning_effort: () => v.optional(v.string()),
  model_reasoning_summary: () => v.optional(v.string()),
  model_verbosity: () => v.optional(choice(["low", "medium", "high"])),
  /** --oss without --local-provider: which local server. */
  oss_provider: () => v.optional(choice(["ollama", "lmstudio"])),
  /** MCP servers (stdio or streamable HTTP), the reference's keys; see mcp/. */
  mcp_servers: () => v.optional(v.record(v.string(), mcpServerConfig())),
  shell_environment_policy: () => v.optional(
    v.object({
      inherit: v.optional(choice(["all", "core", "none"])),
      ignore_default_excludes: v.optional(v.boolean()),
      exclude: v.optional(v.array(v.string())),
      include_only: v.optional(v.array(v.string())),
      set: v.optional(stringRecord()),
      experimental_use_profile: v.optional(v.boolean()),
    }),
  ),
  sandbox_mode: () => v.optional(choice(["read-only", "workspace-write", "danger-full-access"])),
  sandbox_workspace_write: () => v.optional(
    v.object({
      writable_roots: v.optional(v.array(v.string())),
      network_access: v.optional(v.boolean()),
      exclude_tmpdir_env_var: v.optional(v.boolean()),
      exclude_slash_tmp: v.optional(v.boolean()),
    }),
  ),
  project_doc_max_bytes: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  project_doc_fallback_filenames: () => v.optional(v.array(v.string())),
  // Accepted so that configs shared with the reference and the SDK's -c flags pass
  // --strict-config; they change nothing in ocx (exec never asks for approval, sends no analytics).
  approval_policy: () => v.optional(choice(["untrusted", "on-failure", "on-request", "never"])),
  /** The provider's hosted web search: "cached" (default), "live", or "disabled". */
  web_search: () => v.optional(choice(["disabled", "cached", "live"])),
  analytics: () => v.optional(v.looseObject({})),
  features: () => v.optional(v.looseObject({})),
  /** Budgets of a run (--max-turns, --max-tool-calls, --max-tokens, --timeout): exit 6 when one runs out. */
  max_turns: () => v.optional(positive()),
  max_tool_calls: () => v.optional(positive()),
  max_tokens: () => v.optional(positive()),
  timeout: () => v.optional(duration()),
  /** Budget in USD of a run's model requests, priced by model_prices (or the built-in table). */
  max_cost_usd: () => v.optional(v.pipe(v.number(), v.check((n) => Number.isFinite(n) && n > 0, "expected a number of US dollars above 0"))),
  /** USD per million tokens, per model name: `[model_prices."gpt-4.1"] input = 2.0 ...`. */
  model_prices: () => v.optional(v.record(v.string(), v.object({ input: price(), cached_input: v.optional(price()), output: price() }))),
  stdin_timeout_ms: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** How long a run waits for a session another run is writing before it exits 3. */
  session_lock_wait_ms: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** Context compaction: the model's window in tokens, and the count at which ocx compacts (default 90 % of the window). */
  model_context_window: () => v.optional(positive()),
  model_auto_compact_token_limit: () => v.optional(positive()),
  /** Replaces ocx's summarisation instructions (as in the reference). */
  compact_prompt: () => v.optional(v.pipe(v.string(), v.nonEmpty("expected the summarisation instructions, not an empty string"))),
  /** Tool calls of one response running at once (ocx's own key; default 8). */
  max_concurrent_tool_calls: () => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Hooks as `[[hooks.<Event>]]` tables (and `[hooks.state]` trust entries); see hooks/. */
  hooks: () => v.optional(v.looseObject({})),
  /** How hooks are confined: "inherit" (the commands' sandbox, default) or "none" (ocx's own key). */
  hooks_sandbox: () => v.optional(choice(["inherit", "none"])),
  /** A program run after each completed turn with the notification JSON as its last argument. */
  notify: () => v.optional(v.array(v.string())),
  tools: () => v.optional(
    v.object({
      /** ocx offers update_plan unless this is false (codex exec needs it set to true). */
      update_plan: v.optional(v.object({ enabled: v.optional(v.boolean()) })),
      view_image: v.optional(v.boolean()),
    }),
  ),
};

type ConfigEntries = { -readonly [K in keyof typeof CONFIG_ENTRIES]: ReturnType<(typeof CONFIG_ENTRIES)[K]> };
export type Config = v.InferOutput<v.ObjectSchema<ConfigEntries, undefined>>;

const built: Partial<ConfigEntries> = {};
const entry = <K extends keyof ConfigEntries>(key: K): ConfigEntries[K] => (built[key] ??= CONFIG_ENTRIES[key]() as ConfigEntries[K]);

/**
 * The config's schema for a config whose top-level keys are `keys` (every key's, without): a
 * key the config does not name is neither checked nor in the output, so validating with only the
 * named keys' schemas gives the same output and the same first issue.
 */
export function configSchema(keys?: Iterable<string>): v.ObjectSchema<ConfigEntries, undefined> {
  const want = keys && new Set(keys);
  const entries: Partial<ConfigEntries> = {};
  for (const key of Object.keys(CONFIG_ENTRIES) as Array<keyof ConfigEntries>) {
    if (!want || want.has(key)) (entries as Record<string, unknown>)[key] = entry(key);
  }
  return v.object(entries as ConfigEntries);
}
