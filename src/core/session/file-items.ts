// History items whose contents stay in their session file. A resumed 50 MB history would
// otherwise be held as 50 MB of JS strings for the whole run, only to be serialised again into
// the very bytes the file holds. A large restored item whose payload text is exactly its
// JSON.stringify (item-json.ts) is kept as a light stand-in instead: its small fields, its keys,
// and where its payload lies in the file (offset, length, and a keyed digest's tag of its
// bytes). A request copies those bytes from the file (itemJsonBytes); anything else that reads
// the item's contents gets them parsed from the file on demand, held only while it is used (a
// WeakRef: gone at the next collection).
// Bytes that no longer match (the file was truncated or rewritten) fail the run with one line.
import { once } from "../util/once.ts";
import { OcxError } from "../errors.ts";
import { forgetItemJson, rememberItemJsonSource } from "../model/item-json.ts";
import type { ResponseItem } from "../model/types.ts";
import type { KeyedDigest, ReadHandle } from "../runtime.ts";

/** Items whose payload is at least this many bytes stay in the file. */
export const FILE_ITEM_MIN_BYTES = 4096;

/** Fields kept in memory when their value is a string at most this long (or a number, boolean, null). */
const LIGHT_STRING_MAX = 256;

/** The session file the items of one resume stay in (open for the rest of the process). */
export interface ItemFile {
  path: string;
  handle: ReadHandle;
  /** What the items' bytes are tagged with when read, and checked against when read again. */
  digest: KeyedDigest;
  /** How many items stay in it (so far). */
  items: number;
}

const strictDecoder = once(() => new TextDecoder("utf-8", { ignoreBOM: true, fatal: true }));

/**
 * A stand-in for `item`, whose JSON is the `byteLength` bytes at `offset` in `file` (tagged
 * `digest` by the file's digest), `length` UTF-16 code units once decoded. The caller
 * guarantees that those bytes are (now) exactly JSON.stringify(item) and drops `item` afterwards; `item` may hold
 * something else for the keys in `unread` (a long string not read from the file yet): their
 * values are read from the file when asked for.
 */
export function fileItem(
  file: ItemFile,
  item: ResponseItem,
  at: { offset: number; byteLength: number; length: number; digest: string },
  unread?: ReadonlySet<string>,
): ResponseItem {
  file.items++;
  // The stand-in's own properties, in the item's order: the light ones as values, the others as
  // getters that read the file. Reads then need no proxy trap (each would be a call out of the
  // engine: about 1 us in a process this short, for every `type` a pass over the history reads);
  // only changes are trapped.
  const target = {} as ResponseItem;
  const heavy: string[] = [];
  for (const key of Object.keys(item)) {
    const v = item[key];
    const light = !unread?.has(key) && (v === null || typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= LIGHT_STRING_MAX));
    if (!light) heavy.push(key);
    Object.defineProperty(target, key, light ? { value: v, writable: true, enumerable: true, configurable: true } : { get: () => full()[key], enumerable: true, configurable: true });
  }
  let recent: WeakRef<ResponseItem> | undefined;
  /** Something changed the item: it is an ordinary object for good. */
  let owned = false;

  /**
   * The file's bytes of the item, checked: the same length as when the file was read, and the
   * bytes the digest's tag was made of (bytes a process rewrote meanwhile are caught, however
   * they were made: it does not know the key).
   */
  const copyTo = (into: Uint8Array): void => {
    let read: Uint8Array;
    try {
      read = file.handle.readSync(at.offset, at.byteLength, into);
    } catch (e) {
      throw changed(file.path, `it cannot be read again (${(e as Error).message})`);
    }
    if (read.length !== at.byteLength) throw changed(file.path, "it is shorter than when this run read it");
    if (!file.digest.matches(read, at.digest)) throw changed(file.path, "its history is no longer the bytes this run read");
  };

  /** The item, parsed from the file (the same object again while it is still in use). */
  const full = (): ResponseItem => {
    const held = recent?.deref();
    if (held) return held;
    const bytes = new Uint8Array(at.byteLength);
    copyTo(bytes);
    const parsed = JSON.parse(strictDecoder().decode(bytes)) as ResponseItem;
    recent = new WeakRef(parsed);
    return parsed;
  };

  /** The item becomes an ordinary object (something is changing it): its JSON is no longer known. */
  const own = (): ResponseItem => {
    if (!owned) {
      if (heavy.length > 0) {
        const parsed = full();
        for (const key of heavy) Object.defineProperty(target, key, { value: parsed[key], writable: true, enumerable: true, configurable: true });
      }
      owned = true;
      forgetItemJson(proxy);
    }
    return target;
  };

  const proxy = new Proxy(target, {
    set(_target, key, value) {
      return Reflect.set(own(), key, value);
    },
    defineProperty(_target, key, descriptor) {
      return Reflect.defineProperty(own(), key, descriptor);
    },
    deleteProperty(_target, key) {
      return Reflect.deleteProperty(own(), key);
    },
  });
  rememberItemJsonSource(proxy, { byteLength: at.byteLength, length: at.length }, {
    copyTo: (into) => {
      if (owned) throw new Error("a restored history item changed after it was read");
      copyTo(into);
    },
  });
  return proxy;
}

function changed(path: string, why: string): OcxError {
  return new OcxError("config", `The session file ${path} changed while this run used it: ${why}; resume it again`);
}
