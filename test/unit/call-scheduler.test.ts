import { describe, expect, test } from "bun:test";
import { CallScheduler, type CallKind } from "../../src/core/agent/call-scheduler.ts";

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** Fake calls: each logs when it starts, and ends (or reaches its start point) when the test says. */
function fakeCalls(limit: number) {
  const scheduler = new CallScheduler(limit);
  const log: string[] = [];
  const finish = new Map<string, () => void>();
  const fail = new Map<string, (e: unknown) => void>();
  const reach = new Map<string, () => void>();
  let running = 0;
  let peak = 0;
  const results: Array<Promise<string>> = [];
  const add = (id: string, kind: CallKind = "concurrent") => {
    const p = scheduler.add(kind, (started) => {
      log.push(`start ${id}`);
      running++;
      peak = Math.max(peak, running);
      reach.set(id, started);
      return new Promise<string>((resolve, reject) => {
        finish.set(id, () => {
          running--;
          log.push(`end ${id}`);
          resolve(`out ${id}`);
        });
        fail.set(id, (e) => {
          running--;
          reject(e);
        });
      });
    });
    p.catch(() => {});
    results.push(p);
    return p;
  };
  return {
    scheduler,
    log,
    add,
    results,
    end: (id: string) => finish.get(id)!(),
    fail: (id: string, e: unknown) => fail.get(id)!(e),
    reach: (id: string) => reach.get(id)!(),
    peak: () => peak,
    started: () => log.filter((l) => l.startsWith("start")).map((l) => l.slice(6)),
  };
}

describe("CallScheduler", () => {
  test("at most `limit` concurrent calls run; the rest start in call order as slots free up", async () => {
    const f = fakeCalls(3);
    for (let i = 0; i < 10; i++) f.add(String(i));
    await flush();
    expect(f.started()).toEqual(["0", "1", "2"]);
    expect(f.scheduler.waiting).toBe(7);
    f.end("1");
    await flush();
    expect(f.started()).toEqual(["0", "1", "2", "3"]);
    // Finishing out of order still starts the next ones in call order.
    f.end("3");
    f.end("0");
    await flush();
    expect(f.started()).toEqual(["0", "1", "2", "3", "4", "5"]);
    for (let i = 2; i < 10; i++) {
      if (i !== 3) f.end(String(i));
      await flush();
    }
    expect(await Promise.all(f.results)).toEqual(Array.from({ length: 10 }, (_, i) => `out ${i}`));
    expect(f.peak()).toBe(3);
    expect(f.scheduler.running).toBe(0);
  });

  test("an exclusive call waits for every earlier call, and every later call waits for it", async () => {
    const f = fakeCalls(8);
    f.add("a");
    f.add("b");
    f.add("patch", "exclusive");
    f.add("c");
    await flush();
    expect(f.started()).toEqual(["a", "b"]);
    f.end("b");
    await flush();
    expect(f.started()).toEqual(["a", "b"]);
    f.end("a");
    await flush();
    expect(f.started()).toEqual(["a", "b", "patch"]);
    f.end("patch");
    await flush();
    expect(f.log).toEqual(["start a", "start b", "end b", "end a", "start patch", "end patch", "start c"]);
    f.end("c");
    expect(await Promise.all(f.results)).toEqual(["out a", "out b", "out patch", "out c"]);
  });

  test("two exclusive calls in a row run one after the other", async () => {
    const f = fakeCalls(8);
    f.add("p1", "exclusive");
    f.add("p2", "exclusive");
    await flush();
    expect(f.started()).toEqual(["p1"]);
    f.end("p1");
    await flush();
    expect(f.started()).toEqual(["p1", "p2"]);
    f.end("p2");
    await Promise.all(f.results);
  });

  test("a follower waits until the calls before it reached their start point, takes no slot, and holds back later calls", async () => {
    const f = fakeCalls(1);
    f.add("cmd");
    f.add("poll", "follower");
    f.add("next");
    await flush();
    expect(f.started()).toEqual(["cmd"]);
    f.reach("cmd");
    await flush();
    // The follower started beside the running command although the one slot is taken...
    expect(f.started()).toEqual(["cmd", "poll"]);
    // ...and the call after it waits for a slot.
    f.end("poll");
    await flush();
    expect(f.started()).toEqual(["cmd", "poll"]);
    f.end("cmd");
    await flush();
    expect(f.started()).toEqual(["cmd", "poll", "next"]);
    f.end("next");
    expect(await Promise.all(f.results)).toEqual(["out cmd", "out poll", "out next"]);
  });

  test("a call that returns without marking its start point counts as started when it returns", async () => {
    const f = fakeCalls(4);
    f.add("a");
    f.add("poll", "follower");
    await flush();
    expect(f.started()).toEqual(["a"]);
    f.end("a");
    await flush();
    expect(f.started()).toEqual(["a", "poll"]);
    f.end("poll");
    await Promise.all(f.results);
  });

  test("a failing call frees its slot and its promise rejects; the others go on", async () => {
    const f = fakeCalls(1);
    f.add("a");
    f.add("b");
    await flush();
    f.fail("a", new Error("boom"));
    await flush();
    expect(f.started()).toEqual(["a", "b"]);
    f.end("b");
    await expect(f.results[0]!).rejects.toThrow("boom");
    expect(await f.results[1]!).toBe("out b");
  });

  test("a call that throws synchronously rejects and frees its slot", async () => {
    const s = new CallScheduler(1);
    const bad = s.add("concurrent", () => {
      throw new Error("sync");
    });
    const good = s.add("concurrent", async () => "ok");
    await expect(bad).rejects.toThrow("sync");
    expect(await good).toBe("ok");
  });

  test("cancel rejects the calls not started yet, which never run; running ones finish", async () => {
    const f = fakeCalls(2);
    for (const id of ["a", "b", "c", "d"]) f.add(id);
    await flush();
    f.scheduler.cancel(new Error("interrupted"));
    f.end("a");
    f.end("b");
    await flush();
    expect(f.started()).toEqual(["a", "b"]);
    expect(await f.results[0]!).toBe("out a");
    await expect(f.results[2]!).rejects.toThrow("interrupted");
    await expect(f.results[3]!).rejects.toThrow("interrupted");
    await expect(f.scheduler.add("concurrent", async () => "late")).rejects.toThrow("interrupted");
  });

  test("a limit below 1 still runs calls one at a time", async () => {
    const f = fakeCalls(0);
    f.add("a");
    f.add("b");
    await flush();
    expect(f.started()).toEqual(["a"]);
    f.end("a");
    await flush();
    f.end("b");
    expect(await Promise.all(f.results)).toEqual(["out a", "out b"]);
  });
});
