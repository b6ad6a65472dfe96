// The model's server is connected to while the run is still being prepared (Runtime.preconnect):
// a relay in front of the mock sees the connection before the run's first request goes out, and
// that one connection carries the request.
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { reply, startMockResponses } from "../mock/responses-server.ts";
import { cleanupTemp, join, makeHome, makeRepo, runOcx } from "./harness.ts";

afterAll(() => cleanupTemp());
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A TCP relay to `target` that counts connections and touches `marker` at the first. */
async function relay(target: URL, marker: string): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections++;
    writeFileSync(marker, String(connections));
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

/** The mock behind a relay, a home whose provider is the relay, and a SessionStart hook running `hook(marker, log)`. */
async function setup(hook: (marker: string, log: string) => string) {
  const mock = await startMockResponses([reply("done")]);
  closers.push(() => mock.close());
  const repo = makeRepo();
  const marker = join(repo, "connected");
  const log = join(repo, "hook.log");
  const { url, connections } = await relay(new URL(mock.url), marker);
  const home = makeHome(url);
  writeFileSync(join(home, "hooks.json"), JSON.stringify({ hooks: { SessionStart: [{ hooks: [{ type: "command", command: hook(JSON.stringify(marker), JSON.stringify(log)), timeout: 10 }] }] } }));
  return { mock, repo, log, url, connections, home };
}

test("the server is connected to before the first request is sent, and that connection carries it", async () => {
  // A SessionStart hook runs after the provider is known and before the request: it waits (up
  // to 5 s) for the relay to have seen a connection, and says whether it did.
  const { mock, repo, log, connections, home } = await setup(
    (marker, log) => `for i in $(seq 100); do if [ -e ${marker} ]; then echo connected >> ${log}; exit 0; fi; sleep 0.05; done; echo "not connected" >> ${log}`,
  );
  const r = await runOcx(["exec", "--json", "-s", "workspace-write", "hi"], { home, cwd: repo });
  expect(r.code).toBe(0);
  expect(existsSync(log) && readFileSync(log, "utf8")).toBe("connected\n");
  expect(mock.requests).toHaveLength(1);
  expect(connections()).toBe(1);
});

test("with a proxy configured, ocx makes no connection of its own ahead of the request", async () => {
  const { repo, log, url, home } = await setup((marker, log) => `if [ -e ${marker} ]; then echo connected >> ${log}; else echo "not connected" >> ${log}; fi`);
  // The proxy is the relay itself (fetch sends it the absolute URL): the request still arrives.
  const r = await runOcx(["exec", "--json", "-s", "workspace-write", "hi"], { home, cwd: repo, env: { HTTP_PROXY: url, NO_PROXY: "" } });
  expect(r.code).toBe(0);
  expect(readFileSync(log, "utf8")).toBe("not connected\n");
});
