// The provider's web searches as thread items: a `web_search_call` output item becomes a
// `web_search` item, started when the search begins (query "" and action "other" until known)
// and completed with the query and action when it is done. One `id` key, ocx's `item_N` (the
// reference repeats the key, with the provider's id second).
import type { EmitEvent, ThreadItem } from "../events.ts";
import type { ResponseItem } from "../model/types.ts";

type WebSearch = Extract<ThreadItem, { type: "web_search" }>;

export class WebSearchItems {
  /** Started and not yet completed, by the provider's item id. */
  private readonly open = new Map<string, string>();

  constructor(
    private readonly nextItemId: () => string,
    private readonly emit: EmitEvent,
  ) {}

  /** response.output_item.added of a web_search_call. */
  added(item: ResponseItem): void {
    if (item.type !== "web_search_call") return;
    const key = String(item.id ?? "");
    if (this.open.has(key)) return;
    const id = this.nextItemId();
    this.open.set(key, id);
    this.emit({ type: "item.started", item: { id, type: "web_search", query: "", action: { type: "other" } } });
  }

  /** An item done: true when it was a web search (and its item is completed). */
  done(item: ResponseItem): boolean {
    if (item.type !== "web_search_call") return false;
    const key = String(item.id ?? "");
    const id = this.open.get(key) ?? this.nextItemId();
    this.open.delete(key);
    this.emit({ type: "item.completed", item: searchItem(id, item) });
    return true;
  }

  /** Searches that began and never finished (the response broke off) are closed as they stand. */
  settle(): void {
    for (const id of this.open.values()) {
      this.emit({ type: "item.completed", item: { id, type: "web_search", query: "", action: { type: "other" } } });
    }
    this.open.clear();
  }
}

function searchItem(id: string, item: ResponseItem): WebSearch {
  const raw = item.action;
  const action = raw && typeof raw === "object" && !Array.isArray(raw) && typeof (raw as { type?: unknown }).type === "string"
    ? (raw as WebSearch["action"])
    : { type: "other" };
  const a = action as Record<string, unknown>;
  const query = str(a.query) ?? (Array.isArray(a.queries) ? str(a.queries[0]) : undefined) ?? str(a.url) ?? str(item.query) ?? "";
  return { id, type: "web_search", query, action };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
