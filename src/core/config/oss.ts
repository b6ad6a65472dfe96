// --oss: a local model server (Ollama or LM Studio) on its default port, or where
// CODEX_OSS_BASE_URL / CODEX_OSS_PORT say. The server is asked first, so a missing server or
// model is a clear error (exit 3) before any turn starts; ocx never downloads models.
import { OcxError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import type { Config } from "./schema.ts";

export const OSS_DEFAULT_MODEL = "gpt-oss:20b";

const SERVERS = {
  ollama: { name: "Ollama", port: 11434, start: "start it with `ollama serve`" },
  lmstudio: { name: "LM Studio", port: 1234, start: "start LM Studio's server (`lms server start`)" },
} as const;
export type LocalProvider = keyof typeof SERVERS;

export function isLocalProvider(id: string): id is LocalProvider {
  return id in SERVERS;
}

/** The built-in local provider's base URL, honouring CODEX_OSS_BASE_URL and CODEX_OSS_PORT. */
export function localBaseUrl(runtime: Runtime, id: LocalProvider): string {
  const explicit = runtime.env("CODEX_OSS_BASE_URL")?.trim();
  if (explicit) return explicit.replace(/\/+$/, "");
  const port = Number(runtime.env("CODEX_OSS_PORT")?.trim() || SERVERS[id].port);
  return `http://localhost:${Number.isInteger(port) && port > 0 ? port : SERVERS[id].port}/v1`;
}

/** Which local provider --oss means: --local-provider, else oss_provider in config. */
export function ossProvider(flag: string | undefined, config: Config): LocalProvider {
  const id = flag ?? config.oss_provider;
  if (!id) {
    throw new OcxError("config", "No local provider chosen for --oss; use --local-provider ollama|lmstudio or set oss_provider in config.toml");
  }
  if (!isLocalProvider(id)) throw new OcxError("config", `Unknown local provider \`${id}\`; use ollama or lmstudio`);
  return id;
}

/** Asks the server which models it has; fails with what to do when it is down or lacks `model`. */
export async function probeLocalServer(runtime: Runtime, id: LocalProvider, baseUrl: string, model: string): Promise<void> {
  const server = SERVERS[id];
  const root = baseUrl.replace(/\/v1$/, "");
  const url = id === "ollama" ? `${root}/api/tags` : `${baseUrl}/models`;
  let json: unknown;
  try {
    const res = await runtime.fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    json = await res.json();
  } catch (e) {
    const why = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new OcxError(
      "config",
      `No ${server.name} server answered at ${root} (GET ${new URL(url).pathname}: ${why}); ${server.start}, or set CODEX_OSS_BASE_URL / CODEX_OSS_PORT`,
    );
  }
  const names = modelNames(json);
  const wanted = [model, model.includes(":") ? model : `${model}:latest`];
  if (names.length > 0 && !names.some((n) => wanted.includes(n))) {
    const how = id === "ollama" ? `pull it with \`ollama pull ${model}\`` : "download and load it in LM Studio";
    throw new OcxError(
      "config",
      `Model \`${model}\` is not available on the ${server.name} server at ${root} (it has: ${names.slice(0, 8).join(", ")}); ${how}, or choose one with -m (ocx does not download models)`,
    );
  }
}

function modelNames(json: unknown): string[] {
  const j = json as { models?: Array<{ name?: unknown; model?: unknown }>; data?: Array<{ id?: unknown }> };
  const out: string[] = [];
  for (const m of j?.models ?? []) for (const n of [m?.name, m?.model]) if (typeof n === "string") out.push(n);
  for (const m of j?.data ?? []) if (typeof m?.id === "string") out.push(m.id);
  return [...new Set(out)];
}
