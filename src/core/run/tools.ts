// The tools a run offers the model, and the model client it talks to.
import type { UsageMeter } from "../agent/usage.ts";
import type { StartedThread } from "./thread.ts";
import type { Config } from "../config/schema.ts";
import { isOcxError } from "../errors.ts";
import { createResponsesClient, type ResponsesClientOptions } from "../model/responses.ts";
import type { ModelClient, ProviderInfo } from "../model/types.ts";
import type { Redactor } from "../redact.ts";
import type { Runtime } from "../runtime.ts";
import { applyPatchCustomTool, applyPatchFunctionTool } from "../tools/apply-patch.ts";
import type { Tool } from "../tools/define-tool.ts";
import { execCommandTool } from "../tools/exec-command.ts";
import { updatePlanTool } from "../tools/update-plan.ts";
import { viewImageTool } from "../tools/view-image.ts";
import { webSearchFor, withoutRefusedWebSearch } from "../tools/web-search.ts";
import { writeStdinTool } from "../tools/write-stdin.ts";
import { OCX_VERSION } from "../version.ts";
import type { RunSetup } from "./resolve.ts";

/**
 * The turn's tools, each answering the model redacted: the built-in ones (a review's own set),
 * the MCP servers' tools, and the provider's hosted web search, offered last (a provider that
 * cannot have it is told once).
 */
export function runTools(run: RunSetup, mcpTools: Tool[]): Tool[] {
  const webSearch = run.opts.review ? {} : webSearchFor(run.config, run.provider, run.sandbox);
  if (webSearch.notice) run.warn(webSearch.notice);
  const tools = run.opts.review
    ? reviewToolset(run.provider.wireApi)
    : [...toolset(run.config, run.provider.wireApi), ...mcpTools, ...(webSearch.tool ? [webSearch.tool] : [])];
  const redacted: Tool[] = [];
  for (const t of tools) redacted.push(redactedTool(t, run.redactor, run.authFile.refresh));
  return redacted;
}

/** The model client of the provider's wire, with each response's usage reported to `meter`. */
export function runClient(runtime: Runtime, run: RunSetup, thread: Pick<StartedThread, "meter" | "ready">): ModelClient {
  const create = run.provider.wireApi === "chat" ? chatClient : createResponsesClient;
  const client = create({
    fetch: runtime.fetch,
    provider: run.provider,
    ...(runtime.collectGarbage ? { collectGarbage: () => runtime.collectGarbage?.() } : {}),
    ...(runtime.loadByteLoops ? { loadByteLoops: () => runtime.loadByteLoops!() } : {}),
    // Once the first request is on its way, start-up is over; the rollout is written (and the
    // output printed) in the next task, so that the request goes out before that work and before
    // anything is printed. (A failure there is the run's: thread.ready() is awaited again as the
    // run ends, also when the answer came first.)
    onSent: () => {
      runtime.afterStartup?.();
      setTimeout(() => void thread.ready().catch(() => {}), 0);
    },
    headers: {
      originator: runtime.env("CODEX_INTERNAL_ORIGINATOR_OVERRIDE") ?? "ocx_exec",
      "user-agent": `ocx/${OCX_VERSION} (${runtime.osDescription()}; ${runtime.arch})`,
      "session-id": run.threadId,
      "thread-id": run.threadId,
      "x-client-request-id": run.threadId,
    },
  });
  return meteredClient(thread.meter, withoutRefusedWebSearch(client, run.providerId, run.warn));
}

/** The Chat Completions client, its module loaded at the first request (only that wire needs it). */
function chatClient(opts: ResponsesClientOptions): ModelClient {
  let client: Promise<ModelClient> | undefined;
  return {
    async *stream(request, signal) {
      const made = await (client ??= import("../model/chat.ts").then((m) => m.createChatClient(opts)));
      yield* made.stream(request, signal);
    },
  };
}

/** `client`, with every completed response's usage reported to `meter`. */
function meteredClient(meter: UsageMeter, client: ModelClient): ModelClient {
  return {
    ...client,
    async *stream(request, signal) {
      for await (const part of client.stream(request, signal)) {
        if (part.type === "completed" && !request.unmetered) meter.response(part.usage);
        yield part;
      }
    },
  };
}

/** The tools offered to the model, in the reference's order (Chat Completions has no freeform tools: apply_patch is then a JSON function). */
function toolset(config: Config, wireApi: ProviderInfo["wireApi"]): Tool[] {
  return [
    execCommandTool,
    writeStdinTool,
    ...(config.tools?.update_plan?.enabled === false ? [] : [updatePlanTool]),
    wireApi === "chat" ? applyPatchFunctionTool : applyPatchCustomTool,
    ...(config.tools?.view_image === false ? [] : [viewImageTool]),
  ];
}

/** A review's tools: commands to inspect the change (and the reference's patch and image tools), nothing else. */
function reviewToolset(wireApi: ProviderInfo["wireApi"]): Tool[] {
  return [execCommandTool, writeStdinTool, wireApi === "chat" ? applyPatchFunctionTool : applyPatchCustomTool, viewImageTool];
}

/**
 * A tool whose answer to the model is redacted (the model never learns a key from a command's
 * output), after auth.json's current values are known.
 */
function redactedTool(tool: Tool, redactor: Redactor, beforeCall: () => Promise<void>): Tool {
  return {
    ...tool,
    async run(raw, ctx) {
      await beforeCall();
      try {
        const output = await tool.run(raw, ctx);
        if (typeof output === "string") return redactor.text(output);
        return output.map((p) => (p.type === "input_text" ? { ...p, text: redactor.text(p.text) } : p));
      } catch (e) {
        // Becomes the call's output (`tool X failed: ...`) unless it ends the turn.
        if (e instanceof Error && !isOcxError(e)) e.message = redactor.text(e.message);
        throw e;
      }
    },
  };
}
