// web_search: the provider's hosted search tool (Responses wire only). ocx never runs it: the
// provider searches and reports a `web_search_call` output item, which becomes a `web_search`
// thread item (agent/web-search-items.ts). Offered as the reference does (contract §6.3):
// `web_search` = "cached" (default) or "live", none with "disabled"; full access makes it live.
import type { Config } from "../config/schema.ts";
import type { ModelClient, ModelRequest, ProviderInfo } from "../model/types.ts";
import { ModelError } from "../model/types.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import type { Tool } from "./define-tool.ts";

export type WebSearchMode = "disabled" | "cached" | "live";

export function webSearchTool(live: boolean): Tool {
  return {
    name: "web_search",
    spec: { type: "web_search", external_web_access: live, search_content_types: ["text", "image"] },
    // A model calling it as a function gets told what it is.
    run: async () => "web_search is a hosted tool: the provider runs it, it cannot be called as a function",
  };
}

/**
 * The web_search tool this run offers (none when disabled), and a notice when it was asked for
 * and cannot be offered (the chat wire has no hosted tools).
 */
export function webSearchFor(config: Config, provider: Pick<ProviderInfo, "wireApi" | "id">, sandbox: SandboxPolicy): { tool?: Tool; notice?: string } {
  const set = config.web_search;
  const mode: WebSearchMode = set ?? "cached";
  if (mode === "disabled") return {};
  if (provider.wireApi === "chat") {
    // Only when asked for: the default would be a notice on every chat run.
    return set === undefined ? {} : { notice: webSearchUnavailable(provider.id, "it speaks Chat Completions (wire_api = \"chat\"), which has no hosted tools") };
  }
  return { tool: webSearchTool(mode === "live" || sandbox.mode === "danger-full-access") };
}

export function webSearchUnavailable(providerId: string, why: string): string {
  return `web search is unavailable with provider ${providerId}: ${why}; the run goes on without it (web_search = "disabled" silences this)`;
}

/**
 * `client`, for a provider that may refuse the hosted tool: a request refused (HTTP 400) with a
 * message naming web_search is sent again without the tool, once said on stderr, and later
 * requests leave it out.
 */
export function withoutRefusedWebSearch(client: ModelClient, providerId: string, notice: (message: string) => void): ModelClient {
  let refused = false;
  const strip = (r: ModelRequest): ModelRequest => ({ ...r, tools: r.tools.filter((t) => t.type !== "web_search") });
  return {
    ...client,
    async *stream(request, signal) {
      const offered = !refused && offersWebSearch(request.tools);
      if (!offered) {
        yield* client.stream(strip(request), signal);
        return;
      }
      let started = false;
      try {
        for await (const part of client.stream(request, signal)) {
          started = true;
          yield part;
        }
      } catch (e) {
        if (started || !(e instanceof ModelError) || e.status !== 400 || !/web_search/i.test(e.message)) throw e;
        refused = true;
        notice(webSearchUnavailable(providerId, `it refused the web_search tool (${firstLine(e.message)})`));
        yield* client.stream(strip(request), signal);
      }
    },
  };
}

function firstLine(text: string): string {
  const line = text.split("\n")[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Whether the request offers the hosted web search (a loop: this runs before every first request). */
function offersWebSearch(tools: readonly ModelRequest["tools"][number][]): boolean {
  for (const t of tools) if (t.type === "web_search") return true;
  return false;
}
