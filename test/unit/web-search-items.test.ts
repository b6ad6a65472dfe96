import { describe, expect, test } from "bun:test";
import { WebSearchItems } from "../../src/core/agent/web-search-items.ts";
import type { ThreadEvent } from "../../src/core/events.ts";

function tracker() {
  const events: ThreadEvent[] = [];
  let n = 0;
  return { events, items: new WebSearchItems(() => `item_${n++}`, (e) => events.push(e)) };
}

describe("WebSearchItems", () => {
  test("added then done: one item, started empty, completed with the query and the provider's action", () => {
    const { events, items } = tracker();
    items.added({ type: "web_search_call", id: "ws_1", status: "in_progress" });
    expect(items.done({ type: "web_search_call", id: "ws_1", action: { type: "search", query: "bun ffi" } })).toBe(true);
    expect(events).toEqual([
      { type: "item.started", item: { id: "item_0", type: "web_search", query: "", action: { type: "other" } } },
      { type: "item.completed", item: { id: "item_0", type: "web_search", query: "bun ffi", action: { type: "search", query: "bun ffi" } } },
    ]);
  });

  test("an open_page action's query is its url; done without added is completed alone; other items are not its business", () => {
    const { events, items } = tracker();
    expect(items.done({ type: "message", role: "assistant", content: [] })).toBe(false);
    items.done({ type: "web_search_call", id: "ws_2", action: { type: "open_page", url: "https://example.com/" } });
    expect(events).toEqual([
      { type: "item.completed", item: { id: "item_0", type: "web_search", query: "https://example.com/", action: { type: "open_page", url: "https://example.com/" } } },
    ]);
  });

  test("a search that began and never finished (the response broke off) is completed by settle", () => {
    const { events, items } = tracker();
    items.added({ type: "web_search_call", id: "ws_3" });
    items.settle();
    items.settle();
    expect(events.map((e) => e.type)).toEqual(["item.started", "item.completed"]);
    expect(events[1]).toEqual({ type: "item.completed", item: { id: "item_0", type: "web_search", query: "", action: { type: "other" } } });
  });
});
