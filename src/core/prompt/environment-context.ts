// The <environment_context> user message (contract section 6.2): where the agent runs and what
// the sandbox allows, so the model knows its limits.
import type { SandboxPolicy } from "../sandbox/policy.ts";
import type { MessageItem } from "../model/types.ts";
import { localParts, type ZoneSource } from "../util/local-time.ts";

export interface EnvironmentInfo {
  cwd: string;
  shell: string;
  /** YYYY-MM-DD in the host's time zone. */
  currentDate: string;
  timeZone: string;
  sandbox: SandboxPolicy;
}

/** How the message starts (to find it again in a history). */
export const ENVIRONMENT_MARKER = "<environment_context>";

/** `s` with &, <, > and " escaped; `s` itself when it has none (no regular expression to compile then). */
const escapeXml = (s: string) =>
  s.includes("&") || s.includes("<") || s.includes(">") || s.includes('"')
    ? s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    : s;

export function environmentContextText(env: EnvironmentInfo): string {
  const lines = [
    ENVIRONMENT_MARKER,
    `  <cwd>${escapeXml(env.cwd)}</cwd>`,
    `  <shell>${escapeXml(env.shell)}</shell>`,
    `  <current_date>${env.currentDate}</current_date>`,
    `  <timezone>${escapeXml(env.timeZone)}</timezone>`,
    `  <filesystem>${filesystemXml(env)}</filesystem>`,
    `  <sandbox_mode>${env.sandbox.bypass ? "danger-full-access" : env.sandbox.mode}</sandbox_mode>`,
    `  <network_access>${env.sandbox.networkAccess ? "enabled" : "restricted"}</network_access>`,
    "</environment_context>",
  ];
  return lines.join("\n");
}

function filesystemXml(env: EnvironmentInfo): string {
  const roots = `<workspace_roots><root>${escapeXml(env.cwd)}</root></workspace_roots>`;
  const { sandbox } = env;
  if (sandbox.bypass || sandbox.mode === "danger-full-access") {
    return `${roots}<permission_profile type="disabled"><file_system type="unrestricted" /></permission_profile>`;
  }
  const entries = ['<entry access="read"><special>:root</special></entry>'];
  if (sandbox.mode === "workspace-write") {
    for (const root of sandbox.writableRoots) {
      entries.push(`<entry access="write"><path>${escapeXml(root)}</path></entry>`);
      for (const guarded of [".git", ".agents", ".codex"]) {
        entries.push(`<entry access="read"><path>${escapeXml(`${root}/${guarded}`)}</path></entry>`);
      }
    }
  }
  return `${roots}<permission_profile type="managed"><file_system type="restricted">${entries.join("")}</file_system></permission_profile>`;
}

export function userMessage(text: string): MessageItem {
  return { type: "message", role: "user", content: [{ type: "input_text", text }] };
}

/** YYYY-MM-DD of `ms` in `zone`, the runtime or a zone name (falls back to UTC on an unknown zone). */
export function localDate(ms: number, zone: ZoneSource): string {
  const p = localParts(ms, zone);
  return `${p.year}-${p.month}-${p.day}`;
}
