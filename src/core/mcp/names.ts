// The names MCP tools get on the wire. The reference offers them in a namespace `mcp__<server>`
// with every character outside [A-Za-z0-9_] replaced by `_`; ocx declares them as flat functions
// `mcp__<server>__<tool>`, which must match ^[A-Za-z0-9_-]{1,64}$ for every provider: longer
// names are cut and end in a hash of the original pair, so the same tool keeps the same name.

/** The longest function name every provider accepts. */
export const MAX_TOOL_NAME = 64;

/** As the reference: every character outside [A-Za-z0-9_] becomes `_`. */
export const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, "_");

/** `mcp__<server>`: the namespace the reference's call form names. */
export const namespaceOf = (server: string): string => `mcp__${sanitize(server)}`;

/** `mcp__<server>__<tool>`, before any shortening: the key a namespaced call resolves to. */
export const fullName = (server: string, tool: string): string => `${namespaceOf(server)}__${sanitize(tool)}`;

/**
 * The flat function name of `tool` on `server`: fullName when it fits in 64 characters and is not
 * `taken`, else its first characters, `_` and 8 hex digits of a hash of (server, tool).
 */
export function flatName(server: string, tool: string, taken: (name: string) => boolean = () => false): string {
  const full = fullName(server, tool);
  if (full.length <= MAX_TOOL_NAME && !taken(full)) return full;
  for (let salt = 0; ; salt++) {
    const suffix = `_${fnv1a(`${server}\u0000${tool}\u0000${salt}`)}`;
    const name = `${full.slice(0, MAX_TOOL_NAME - suffix.length)}${suffix}`;
    if (!taken(name)) return name;
  }
}

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
