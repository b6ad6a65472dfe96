import { describe, expect, test } from "bun:test";
import { flatName, fullName, namespaceOf, sanitize } from "../../src/core/mcp/names.ts";

const VALID = /^[A-Za-z0-9_-]{1,64}$/;

describe("MCP tool names", () => {
  test("sanitised as the reference does: everything outside [A-Za-z0-9_] becomes _", () => {
    expect(sanitize("dotted.name with space")).toBe("dotted_name_with_space");
    expect(namespaceOf("my-srv")).toBe("mcp__my_srv");
    expect(fullName("my-srv", "get-sum")).toBe("mcp__my_srv__get_sum");
    expect(flatName("ev", "echo")).toBe("mcp__ev__echo");
  });

  test("a name over 64 characters is cut and ends in a hash: valid, stable, distinct", () => {
    const long = "a".repeat(70);
    const a = flatName("srv", long);
    const b = flatName("srv", `${long}b`);
    expect(a).toMatch(VALID);
    expect(a).toHaveLength(64);
    expect(a).toStartWith("mcp__srv__aaaa");
    expect(flatName("srv", long)).toBe(a);
    expect(b).not.toBe(a);
  });

  test("names that collide after sanitising get distinct valid names", () => {
    const taken = new Set<string>();
    const names = ["get-sum", "get.sum", "get sum", "get_sum"].map((t) => {
      const n = flatName("s", t, (x) => taken.has(x));
      taken.add(n);
      return n;
    });
    expect(new Set(names).size).toBe(4);
    for (const n of names) expect(n).toMatch(VALID);
    expect(names[0]).toBe("mcp__s__get_sum");
  });

  test("non-ASCII names stay within the pattern", () => {
    expect(flatName("sérveur", "outil→ü")).toMatch(VALID);
  });
});
