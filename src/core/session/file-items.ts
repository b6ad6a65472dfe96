// History items whose contents stay in their session file. A resumed 50 MB history would
// otherwise be held as 50 MB of JS strings for the whole run, only to be serialised again into
// the very bytes the file holds. A large restored item whose payload text is exactly its
// JSON.stringify (item-json.ts) is kept as a light stand-in instead: its small fields, its keys,
// and where its payload lies in the file (offset, length, SHA-256). A request copies those bytes
// from the file (itemJsonBytes); anything else that reads the item's contents gets them parsed
// from the file on demand, held only while it is used (a WeakRef: gone at the next collection).
// Bytes that no longer match (the file was truncated or rewritten) fail the run with one line.
import { once } from "../util/once.ts";
import { OcxError } from "../errors.ts";
import { forgetItemJson, rememberItemJsonSource } from "../model/item-json.ts";
import type { ResponseItem } from "../model/types.ts";
import type { ReadHandle } from "../runtime.ts";

/** Items whose payload is at least this many bytes stay in the file. */
export const FILE_ITEM_MIN_BYTES = 4096;

/** Fields kept in memory when their value is a string at most this long (or a number, boolean, null). */
const LIGHT_STRING_MAX = 256;

/** The session file the items of one resume stay in (open for the rest of the process). */
export interface ItemFile {
  path: string;
  handle: ReadHandle;
  sha256(bytes: Uint8Array): string;
  /** How many items stay in it (so far). */
  items: number;
}

const strictDecoder = once(() => new TextDecoder("utf-8", { ignoreBOM: true, fatal: true }));

/**
 * A stand-in for `item`, whose JSON is the `byteLength` bytes at `offset` in `file` (whose
 * SHA-256 is `digest`), `length` UTF-16 code units once decoded. The caller guarantees that those
 * bytes are (now) exactly JSON.stringify(item) and drops `item` afterwards; `item` may hold
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
  const keys = Object.keys(item);
  const light = new Map<string, unknown>();
  for (const key of keys) {
    if (unread?.has(key)) continue;
    const v = item[key];
    if (v === null || typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= LIGHT_STRING_MAX)) light.set(key, v);
  }
  const keySet = new Set(keys);
  let recent: WeakRef<ResponseItem> | undefined;
  /** The item itself for good, once something changed it. */
  let owned: ResponseItem | undefined;

  /**
   * The file's bytes of the item, checked: the same length and SHA-256 as when the file was read
   * (bytes a process rewrote meanwhile are caught, however they were made).
   */
  const copyTo = (into: Uint8Array): void => {
    let read: Uint8Array;
    try {
      read = file.handle.readSync(at.offset, at.byteLength, into);
    } catch (e) {
      throw changed(file.path, `it cannot be read again (${(e as Error).message})`);
    }
    if (read.length !== at.byteLength) throw changed(file.path, "it is shorter than when this run read it");
    if (file.sha256(read) !== at.digest) throw changed(file.path, "its history is no longer the bytes this run read");
  };

  /** The item, parsed from the file (the same object again while it is still in use). */
  const full = (): ResponseItem => {
    if (owned) return owned;
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
      owned = full();
      forgetItemJson(proxy);
    }
    return owned;
  };

  const proxy = new Proxy({} as ResponseItem, {
    get(target, key, receiver) {
      if (owned) return Reflect.get(owned, key);
      if (typeof key !== "string" || !keySet.has(key)) return Reflect.get(target, key, receiver);
      return light.has(key) ? light.get(key) : full()[key];
    },
    has(target, key) {
      if (owned) return Reflect.has(owned, key);
      return (typeof key === "string" && keySet.has(key)) || Reflect.has(target, key);
    },
    ownKeys() {
      return owned ? Reflect.ownKeys(owned) : [...keys];
    },
    getOwnPropertyDescriptor(_target, key) {
      if (owned) return Reflect.getOwnPropertyDescriptor(owned, key);
      if (typeof key !== "string" || !keySet.has(key)) return undefined;
      return { value: light.has(key) ? light.get(key) : full()[key], writable: true, enumerable: true, configurable: true };
    },
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
