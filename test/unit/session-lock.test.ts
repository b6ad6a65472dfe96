import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import { isOcxError } from "../../src/core/errors.ts";
import { lockSession } from "../../src/core/session/lock.ts";

const runtime = bunRuntime();
const dir = mkdtempSync(join(tmpdir(), "ocx-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const rollout = () => join(dir, `rollout-${n++}.jsonl`);

describe("session lock", () => {
  test("held by this process: a second taker waits, then fails with exit 3 naming the pid; released, it can be taken", async () => {
    const path = rollout();
    const lock = await lockSession(runtime, path, { waitMs: 0 });
    expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).pid).toBe(process.pid);
    let waited: number | undefined;
    const err = await lockSession(runtime, path, { waitMs: 120, onWait: (h) => (waited = h.pid) }).catch((e) => e);
    expect(isOcxError(err) && err.exitCode).toBe(3);
    expect(err.message).toContain(`process ${process.pid}`);
    expect(waited).toBe(process.pid);
    await lock.release();
    expect(existsSync(`${path}.lock`)).toBe(false);
    await (await lockSession(runtime, path, { waitMs: 0 })).release();
  });

  test("a holder that is gone, or whose pid now names a later process, is taken over", async () => {
    for (const holder of [{ pid: 2 ** 22 + 12345, stamp: "1" }, { pid: process.pid, stamp: "not-my-start-time" }]) {
      const path = rollout();
      writeFileSync(`${path}.lock`, JSON.stringify(holder));
      const lock = await lockSession(runtime, path, { waitMs: 0 });
      expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).stamp).toBe((await runtime.processStamp(process.pid))!);
      await lock.release();
    }
  });

  test("an empty lock file is someone creating it (waited for), stale only when old", async () => {
    const path = rollout();
    writeFileSync(`${path}.lock`, "");
    expect(await lockSession(runtime, path, { waitMs: 0 }).catch((e) => e.exitCode)).toBe(3);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(`${path}.lock`, old, old);
    await (await lockSession(runtime, path, { waitMs: 0 })).release();
  });

  test("release leaves a lock that is not this run's alone", async () => {
    const path = rollout();
    const lock = await lockSession(runtime, path, { waitMs: 0 });
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, stamp: "" }));
    await lock.release();
    expect(existsSync(`${path}.lock`)).toBe(true);
  });
});
