// Path operations for core: pathe's results, with a shortcut for POSIX paths. pathe turns
// Windows separators and drive letters into its form with regular expressions on every call, and
// in a compiled binary the first uses of those (and of the string and array methods behind them)
// cost about 0.35 ms before the first request. A path with no backslash, no drive letter and no
// leading `//` goes through the loop below instead, which gives what pathe gives
// (test/unit/path.test.ts compares the two on generated paths); anything else goes to pathe.
import * as pathe from "pathe";

/** Whether pathe would take `p` as it is: no backslash, no drive letter, no UNC `//` start. */
const posix = (p: string): boolean => !p.includes("\\") && !(p.length > 1 && p[1] === ":") && !p.startsWith("//");

/**
 * `p` without `.` and `..` segments and repeated slashes, without its leading slash (the
 * algorithm of Node's path.posix, which pathe uses too); `..` at the start stays when
 * `allowAboveRoot`.
 */
function normalizeSegments(p: string, allowAboveRoot: boolean): string {
  let res = "";
  let lastSegmentLength = 0;
  let lastSlash = -1;
  let dots = 0;
  for (let i = 0; i <= p.length; i++) {
    let code: number;
    if (i < p.length) code = p.charCodeAt(i);
    else if (p.charCodeAt(i - 1) === 47) break;
    else code = 47;
    if (code === 47) {
      if (lastSlash === i - 1 || dots === 1) {
        // an empty or `.` segment
      } else if (dots === 2) {
        if (res.length < 2 || lastSegmentLength !== 2 || !res.endsWith("..")) {
          if (res.length > 2) {
            const at = res.lastIndexOf("/");
            res = at === -1 ? "" : res.slice(0, at);
            lastSegmentLength = at === -1 ? 0 : res.length - 1 - res.lastIndexOf("/");
            lastSlash = i;
            dots = 0;
            continue;
          }
          if (res.length > 0) {
            res = "";
            lastSegmentLength = 0;
            lastSlash = i;
            dots = 0;
            continue;
          }
        }
        if (allowAboveRoot) {
          res += res.length > 0 ? "/.." : "..";
          lastSegmentLength = 2;
        }
      } else {
        res += res.length > 0 ? `/${p.slice(lastSlash + 1, i)}` : p.slice(lastSlash + 1, i);
        lastSegmentLength = i - lastSlash - 1;
      }
      lastSlash = i;
      dots = 0;
    } else if (code === 46 && dots !== -1) {
      dots++;
    } else {
      dots = -1;
    }
  }
  return res;
}

/** A result that starts like a drive (`C:`, `c:/x`): pathe has rules of its own for those. */
const driveLike = (s: string): boolean => s.length > 1 && s[1] === ":";

export function isAbsolute(p: string): boolean {
  return posix(p) ? p.startsWith("/") : pathe.isAbsolute(p);
}

/**
 * Whether the POSIX path `p` is normal as it is: no empty segment (`//`), none that is or starts
 * with a dot (`/.`, a leading `.`: `.` and `..` among them), no trailing slash but the root's. Most
 * paths made before the first request are (a folder and a file name joined): they are checked with
 * a few native searches instead of a loop over their characters.
 */
const plainPath = (p: string): boolean =>
  !p.includes("//") && !p.includes("/.") && p.charCodeAt(0) !== 46 && (p.length === 1 || p.charCodeAt(p.length - 1) !== 47);

export function normalize(p: string): string {
  if (p === "" || !posix(p)) return pathe.normalize(p);
  // (A body that starts like a drive, `/c:…`, goes the long way: pathe has rules of its own.)
  if (plainPath(p) && p.charCodeAt(p.charCodeAt(0) === 47 ? 2 : 1) !== 58) return p;
  const absolute = p.startsWith("/");
  const trailing = p.endsWith("/");
  const body = normalizeSegments(p, !absolute);
  if (body === "") return absolute ? "/" : trailing ? "./" : ".";
  if (driveLike(body)) return pathe.normalize(p);
  const out = trailing ? `${body}/` : body;
  return absolute ? `/${out}` : out;
}

export function join(...segments: string[]): string {
  let path = "";
  for (const seg of segments) {
    if (!seg) continue;
    if (path.length === 0) path = seg;
    else if (path.endsWith("/")) path += seg.startsWith("/") ? seg.slice(1) : seg;
    else path += seg.startsWith("/") ? seg : `/${seg}`;
  }
  return normalize(path);
}

export function resolve(...paths: string[]): string {
  let joined = "";
  let absolute = false;
  for (let i = paths.length - 1; i >= 0 && !absolute; i--) {
    const p = paths[i]!;
    if (p.length === 0) continue;
    if (!posix(p)) return pathe.resolve(...paths);
    joined = `${p}/${joined}`;
    absolute = p.startsWith("/");
  }
  // Relative to the process's working directory: pathe knows where that is.
  if (!absolute) return pathe.resolve(...paths);
  const body = normalizeSegments(joined, false);
  return driveLike(body) ? pathe.resolve(...paths) : `/${body}`;
}

export function dirname(p: string): string {
  if (!posix(p)) return pathe.dirname(p);
  const trimmed = p.endsWith("/") ? p.slice(0, -1) : p;
  const at = trimmed.lastIndexOf("/");
  const head = at < 0 ? "" : trimmed.slice(0, at);
  return head || (p.startsWith("/") ? "/" : ".");
}

export function basename(p: string, extension?: string): string {
  if (!posix(p)) return pathe.basename(p, extension);
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 47) end--;
  const last = p.slice(p.lastIndexOf("/", end - 1) + 1, end);
  return extension && last.endsWith(extension) ? last.slice(0, -extension.length) : last;
}

export const extname = pathe.extname;
export const relative = pathe.relative;
