// Where hooks come from, as the reference reads them: `hooks.json` beside each config layer
// (`{"hooks":{"<Event>":[{"matcher":"...","hooks":[{"type":"command","command":"...","timeout":10}]}]}}`)
// and the same structure as `[[hooks.<Event>]]` tables in config.toml. The user layer is
// $CODEX_HOME (hooks.json, and [hooks] of config.toml, profile and -c); the project layers are
// `.codex/` of each directory from the git root down to the working directory.
import { parse as parseToml } from "smol-toml";
import { join } from "../util/path.ts";
import { describeError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { hex } from "../util/random.ts";
import { projectDirs } from "../workspace.ts";

export const HOOK_EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop"] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** The reference's default for a command hook without `timeout` (seconds). */
export const DEFAULT_HOOK_TIMEOUT_SEC = 600;

export interface HookHandler {
  event: HookEvent;
  /** The group's matcher as written (tool events only). */
  matcher?: string;
  command: string;
  timeoutSec: number;
  /** The file it was declared in (hooks.json or config.toml). */
  source: string;
  /** `<source>:<event_snake>:<group>:<handler>`: the key of its trust entry in [hooks.state]. */
  key: string;
  /** Declared in a project's `.codex/`: runs only when trusted (or with the bypass flag). */
  project: boolean;
}

const isTable = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);

export const snakeEvent = (e: HookEvent): string => e.replace(/(?<!^)([A-Z])/g, "_$1").toLowerCase();

const toolEvent = (e: HookEvent) => e === "PreToolUse" || e === "PostToolUse";

/** The handlers of one `hooks` table; problems (wrong shapes, unknown events) go to `warn`. */
export function handlersOf(table: unknown, source: string, project: boolean, warn: (m: string) => void): HookHandler[] {
  if (!isTable(table)) return [];
  const out: HookHandler[] = [];
  for (const [name, groups] of Object.entries(table)) {
    if (name === "state") continue;
    const event = HOOK_EVENTS.find((e) => e === name);
    if (!event) {
      warn(`hooks in ${source}: event ${JSON.stringify(name)} is not one ocx runs (${HOOK_EVENTS.join(", ")}); its hooks are ignored`);
      continue;
    }
    if (!Array.isArray(groups)) {
      warn(`hooks in ${source}: ${name} should be a list of matcher groups; ignored`);
      continue;
    }
    groups.forEach((group, g) => {
      if (!isTable(group) || !Array.isArray(group.hooks)) {
        warn(`hooks in ${source}: ${name} group ${g} has no \`hooks\` list; ignored`);
        return;
      }
      const matcher = typeof group.matcher === "string" ? group.matcher : undefined;
      if (matcher !== undefined && toolEvent(event) && matcherRegExp(matcher) === null) {
        warn(`hooks in ${source}: invalid matcher ${JSON.stringify(matcher)} for ${name}; its hooks are ignored`);
        return;
      }
      group.hooks.forEach((h, i) => {
        if (!isTable(h) || (h.type ?? "command") !== "command" || typeof h.command !== "string" || h.command.trim() === "") {
          warn(`hooks in ${source}: ${name} group ${g} hook ${i} is not a command hook with a \`command\`; ignored`);
          return;
        }
        const timeout = typeof h.timeout === "number" && h.timeout > 0 ? h.timeout : typeof h.timeoutSec === "number" && h.timeoutSec > 0 ? h.timeoutSec : DEFAULT_HOOK_TIMEOUT_SEC;
        out.push({
          event,
          ...(matcher !== undefined ? { matcher } : {}),
          command: h.command,
          timeoutSec: timeout,
          source,
          key: `${source}:${snakeEvent(event)}:${g}:${i}`,
          project,
        });
      });
    });
  }
  return out;
}

/** A matcher as a regular expression over the whole tool name; "*" and "" match everything; null when invalid. */
export function matcherRegExp(matcher: string | undefined): RegExp | null {
  if (matcher === undefined || matcher === "" || matcher === "*") return /^/;
  try {
    return new RegExp(`^(?:${matcher})$`);
  } catch {
    return null;
  }
}

/**
 * The reference's trust hash of a handler: sha256 of the compact JSON (sorted keys) of its event,
 * its matcher (when set) and the handler with its timeout (default 600) and `async: false`.
 */
export async function trustHash(h: HookHandler): Promise<string> {
  const value = {
    event_name: snakeEvent(h.event),
    ...(h.matcher !== undefined ? { matcher: h.matcher } : {}),
    hooks: [{ type: "command", command: h.command, timeout: h.timeoutSec, async: false }],
  };
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sortedJson(value)));
  return `sha256:${hex(new Uint8Array(digest))}`;
}

function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(",")}]`;
  if (isTable(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

/** `[hooks.state."<key>"] trusted_hash` entries of the user's config. */
export function trustedHashes(hooksTable: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const state = isTable(hooksTable) ? hooksTable.state : undefined;
  if (!isTable(state)) return out;
  for (const [key, entry] of Object.entries(state)) {
    if (isTable(entry) && typeof entry.trusted_hash === "string") out.set(key, entry.trusted_hash);
  }
  return out;
}

/** The most of a hooks file read (declarations are kilobytes). */
const HOOKS_FILE_MAX_BYTES = 1024 * 1024;

/** A candidate file's text: undefined when it is not a file; the error when it could not be read. */
type Read = { text?: string } | { error: unknown };

/** Reads a file if it is one; rejects past HOOKS_FILE_MAX_BYTES. */
async function readIfFile(runtime: Runtime, path: string): Promise<Read> {
  try {
    if (!(await runtime.fs.stat(path))?.isFile) return {};
    return { text: new TextDecoder().decode(await runtime.fs.readFile(path, { maxBytes: HOOKS_FILE_MAX_BYTES })) };
  } catch (error) {
    return { error };
  }
}

/** hooks.json's `hooks` table, or undefined (absent, unreadable or malformed: warned). */
function hooksJsonTable(path: string, read: Read, warn: (m: string) => void): unknown {
  try {
    if ("error" in read) throw read.error;
    if (read.text === undefined) return undefined;
    const parsed = JSON.parse(read.text) as unknown;
    if (!isTable(parsed) || !isTable(parsed.hooks)) {
      warn(`failed to parse hooks config ${path}: expected {"hooks": {"<Event>": [...]}}; its hooks are ignored`);
      return undefined;
    }
    return parsed.hooks;
  } catch (e) {
    warn(`failed to read hooks config ${path}: ${describeError(e)}; its hooks are ignored`);
    return undefined;
  }
}

/** `[hooks]` of a project's .codex/config.toml, or undefined. */
function projectTomlHooks(path: string, read: Read, warn: (m: string) => void): unknown {
  try {
    if ("error" in read) throw read.error;
    if (read.text === undefined) return undefined;
    return (parseToml(read.text) as Record<string, unknown>).hooks;
  } catch (e) {
    warn(`failed to read hooks in ${path}: ${describeError(e).split("\n")[0]}; its hooks are ignored`);
    return undefined;
  }
}

/**
 * Every configured handler, user layer first, then project layers from the root down. The
 * candidate files are read together, before the first request; what they hold is taken (and
 * warned about) in that order.
 */
export async function discoverHooks(
  runtime: Runtime,
  o: { codexHome: string; userHooks: unknown; gitRoot?: string; cwd: string; warn: (m: string) => void },
): Promise<HookHandler[]> {
  // Plain loops: this runs before every first request, where each array method's first use
  // costs a compiled binary up to 0.1 ms.
  const userJson = join(o.codexHome, "hooks.json");
  const project: Array<{ json: string; toml: string }> = [];
  for (const dir of projectDirs(o.gitRoot, o.cwd)) {
    const dot = join(dir, ".codex");
    if (dot !== o.codexHome) project.push({ json: join(dot, "hooks.json"), toml: join(dot, "config.toml") });
  }
  const pending = [readIfFile(runtime, userJson)];
  for (const p of project) pending.push(readIfFile(runtime, p.json), readIfFile(runtime, p.toml));
  const [user, ...reads] = await Promise.all(pending);
  const handlers = [
    ...handlersOf(hooksJsonTable(userJson, user!, o.warn), userJson, false, o.warn),
    ...handlersOf(o.userHooks, join(o.codexHome, "config.toml"), false, o.warn),
  ];
  for (let i = 0; i < project.length; i++) {
    const { json, toml } = project[i]!;
    handlers.push(...handlersOf(hooksJsonTable(json, reads[2 * i]!, o.warn), json, true, o.warn));
    handlers.push(...handlersOf(projectTomlHooks(toml, reads[2 * i + 1]!, o.warn), toml, true, o.warn));
  }
  return handlers;
}
