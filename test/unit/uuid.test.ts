import { expect, test } from "bun:test";
import { uuidv7 } from "../../src/core/util/uuid.ts";

test("UUIDv7: version and variant bits, timestamp prefix", () => {
  const id = uuidv7(0x0123456789ab);
  expect(id).toMatch(/^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test("UUIDv7 ids made in the same millisecond (or with the clock going back) still increase", () => {
  const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(i < 2500 ? 1_700_000_000_000 : 1_699_999_999_000));
  const sorted = [...ids].sort();
  expect(ids).toEqual(sorted);
  expect(new Set(ids).size).toBe(ids.length);
});

test("UUIDv7 takes its random bits from the runtime's source when given one (the Bun adapter reads /dev/urandom)", async () => {
  const fixed = uuidv7(0x0123456789ab + 1000, (b) => b.fill(0xff));
  // The bytes come from the source: all ones, but for the version, the variant and the counter's start.
  expect(fixed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-bfff-ffffffffffff$/);
  const { bunRuntime } = await import("../../src/adapters/bun.ts");
  const fill = bunRuntime().randomFill!;
  const a = new Uint8Array(32);
  const b = new Uint8Array(32);
  fill(a);
  fill(b);
  expect(a.some((x) => x !== 0)).toBe(true);
  expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
});

test("the runtime's random bytes come from a pool read ahead, each handed out once, in any size asked", async () => {
  const { bunRuntime } = await import("../../src/adapters/bun.ts");
  const fill = bunRuntime().randomFill!;
  // Sizes that cross the 256-byte pool's end, and one larger than the pool.
  const sizes = [16, 16, 100, 16, 200, 7, 1000, 16, 33, 16];
  const seen = new Set<string>();
  for (let round = 0; round < 20; round++) {
    for (const size of sizes) {
      const bytes = new Uint8Array(size);
      fill(bytes);
      // 7 or more random bytes are never all zero, and no block comes out twice.
      expect(bytes.some((x) => x !== 0)).toBe(true);
      const key = Buffer.from(bytes).toString("hex");
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
  }
});
