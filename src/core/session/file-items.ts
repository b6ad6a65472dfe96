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
import { forgetItemJson, type ItemJsonBytes, rememberItemJsonSource } from "../model/item-json.ts";
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
 * guarantees that those bytes are (now) exactly JSON.stringify(item) and drops `item`
 * afterwards; `item` may hold something else for the keys in `unread` (a long string not read
 * from the file yet): their values are read from the file when asked for.
 */
export function fileItem(file: ItemFile, item: ResponseItem, at: ItemPlace, unread?: ReadonlySet<string>): ResponseItem {
  file.items++;
  // The stand-in's own properties, in the item's order: the light ones as values, the others as
  // getters that read the file. Reads then need no proxy trap (each would be a call out of the
  // engine: about 1 us in a process this short, for every `type` a pass over the history reads);
  // only changes are trapped. What a stand-in needs of its own is one StandIn: the getters and
  // the traps are shared by all (a resume makes thousands of stand-ins).
  const target = {} as ResponseItem;
  const heavy: string[] = [];
  for (const key of Object.keys(item)) {
    const v = item[key];
    const light = !unread?.has(key) && (v === null || typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= LIGHT_STRING_MAX));
    if (!light) {
      heavy.push(key);
      Object.defineProperty(target, key, heavyField(key));
    } else if (key === "__proto__") Object.defineProperty(target, key, { value: v, writable: true, enumerable: true, configurable: true });
    else target[key] = v;
  }
  const proxy = new Proxy(target, TRAPS);
  const standIn = new StandIn(file, at, target, proxy, heavy);
  standIns.set(target, standIn);
  standIns.set(proxy, standIn);
  rememberItemJsonSource(proxy, { byteLength: at.byteLength, length: at.length }, standIn);
  return proxy;
}

/** Where an item's JSON lies in its file, and the tag of its bytes there. */
interface ItemPlace {
  offset: number;
  byteLength: number;
  length: number;
  digest: string;
}

/** The stand-ins by their proxies (what a getter is called on) and by their targets (what a trap is given). */
const standIns = new WeakMap<object, StandIn>();

/** A stand-in's own part: where its item is, and whether something changed it. */
class StandIn implements ItemJsonBytes {
  private recent: WeakRef<ResponseItem> | undefined;
  /** Something changed the item: it is an ordinary object for good. */
  private owned = false;

  constructor(
    private readonly file: ItemFile,
    private readonly at: ItemPlace,
    private readonly target: ResponseItem,
    private readonly proxy: ResponseItem,
    private readonly heavy: string[],
  ) {}

  /** The bytes of the item's JSON, for a request (see ItemJsonBytes). */
  copyTo(into: Uint8Array): void {
    if (this.owned) throw new Error("a restored history item changed after it was read");
    this.read(into);
  }

  /**
   * The file's bytes of the item, checked: the same length as when the file was read, and the
   * bytes the digest's tag was made of (bytes a process rewrote meanwhile are caught, however
   * they were made: it does not know the key).
   */
  private read(into: Uint8Array): void {
    const { file, at } = this;
    let read: Uint8Array;
    try {
      read = file.handle.readSync(at.offset, at.byteLength, into);
    } catch (e) {
      throw changed(file.path, `it cannot be read again (${(e as Error).message})`);
    }
    if (read.length !== at.byteLength) throw changed(file.path, "it is shorter than when this run read it");
    if (!file.digest.matches(read, at.digest)) throw changed(file.path, "its history is no longer the bytes this run read");
  }

  /** The item, parsed from the file (the same object again while it is still in use). */
  full(): ResponseItem {
    const held = this.recent?.deref();
    if (held) return held;
    const bytes = new Uint8Array(this.at.byteLength);
    this.read(bytes);
    const parsed = JSON.parse(strictDecoder().decode(bytes)) as ResponseItem;
    this.recent = new WeakRef(parsed);
    return parsed;
  }

  /** The item becomes an ordinary object (something is changing it): its JSON is no longer known. */
  own(): ResponseItem {
    const { target } = this;
    if (!this.owned) {
      if (this.heavy.length > 0) {
        const parsed = this.full();
        for (const key of this.heavy) Object.defineProperty(target, key, { value: parsed[key], writable: true, enumerable: true, configurable: true });
      }
      this.owned = true;
      forgetItemJson(this.proxy);
    }
    return target;
  }
}

/** Changes to a stand-in: each makes it an ordinary object first. */
const TRAPS: ProxyHandler<ResponseItem> = {
  set(target, key, value) {
    return Reflect.set(standIns.get(target)!.own(), key, value);
  },
  defineProperty(target, key, descriptor) {
    return Reflect.defineProperty(standIns.get(target)!.own(), key, descriptor);
  },
  deleteProperty(target, key) {
    return Reflect.deleteProperty(standIns.get(target)!.own(), key);
  },
};

/** The getter of the field `key` of stand-ins, one for all of them: the field of the item parsed from the file. */
const heavyFields = new Map<string, PropertyDescriptor>();
function heavyField(key: string): PropertyDescriptor {
  let d = heavyFields.get(key);
  if (!d) {
    d = {
      get(this: object) {
        return standIns.get(this)!.full()[key];
      },
      enumerable: true,
      configurable: true,
    };
    // (Keys are few: the items' field names. A history of odd ones makes one each, as before.)
    if (heavyFields.size < 1024) heavyFields.set(key, d);
  }
  return d;
}

function changed(path: string, why: string): OcxError {
  return new OcxError("config", `The session file ${path} changed while this run used it: ${why}; resume it again`);
}
