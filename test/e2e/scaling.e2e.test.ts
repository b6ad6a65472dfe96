// The scaling-out examples in examples/: the matrix workflow passes only inputs action.yml has,
// one artifact per job; the Kubernetes Job's container, run here as the pod would run it (its
// command, args, env and working directory, the volumes as directories), completes against the
// mock server and leaves the final message and the rollout on the CODEX_HOME volume.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { reply } from "../mock/responses-server.ts";
import { cleanupTemp, makeRepo, REPO_ROOT, runOcx, useMockServers } from "./harness.ts";

afterAll(() => cleanupTemp());
const setup = useMockServers();
const yaml = (file: string) => Bun.YAML.parse(readFileSync(join(REPO_ROOT, file), "utf8")) as any;

test("matrix workflow: every `with:` of the ocx step is an action input; one artifact per matrix entry", () => {
  const action = yaml("action.yml");
  const wf = yaml("examples/ocx-matrix.workflow.yml");
  const job = wf.jobs.ocx;
  const entries = job.strategy.matrix.include as Array<Record<string, string>>;
  expect(entries.length).toBeGreaterThan(1);
  expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
  const ocx = job.steps.find((s: any) => s.id === "ocx");
  for (const key of Object.keys(ocx.with)) expect(Object.keys(action.inputs)).toContain(key);
  expect(ocx.with.prompt).toBe("${{ matrix.prompt }}");
  expect(ocx.with["openai-api-key"]).toBe("${{ secrets.OPENAI_API_KEY }}");
  const upload = job.steps.find((s: any) => String(s.uses).startsWith("actions/upload-artifact"));
  expect(upload.if).toBe("always()");
  expect(upload.with.name).toContain("${{ matrix.id }}");
  expect(upload.with.path).toContain(`${ocx.with["codex-home"]}/sessions/`);
});

test("Kubernetes Job: the ocx container's command runs to completion; -o file and rollout land on the CODEX_HOME volume", async () => {
  const job = yaml("examples/ocx-job.k8s.yaml");
  expect(job.kind).toBe("Job");
  const pod = job.spec.template.spec;
  expect(pod.restartPolicy).toBe("Never");
  expect(pod.containers).toHaveLength(1);
  const c = pod.containers[0];
  const key = c.env.find((e: any) => e.name === "CODEX_API_KEY");
  expect(key.value).toBeUndefined(); // from a Secret, never inline
  expect(key.valueFrom.secretKeyRef).toBeDefined();
  const homeMount = c.env.find((e: any) => e.name === "CODEX_HOME").value as string;
  expect(c.volumeMounts.map((m: any) => m.mountPath)).toContain(homeMount);

  // The pod's file system, as directories here: the CODEX_HOME volume and the checked-out repo.
  const { mock, home } = await setup([reply("Fixed: the tests pass.")]);
  const repo = makeRepo();
  const mapPath = (p: string) => p.replace(homeMount, home).replace(c.workingDir, repo);
  expect(c.command).toEqual(["/usr/local/bin/ocx"]);
  const r = await runOcx(c.args.map(mapPath), { home, cwd: mapPath(c.workingDir) });
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("Fixed: the tests pass.\n");
  expect(mock.requests).toHaveLength(1);
  const finalFile = mapPath(c.args[c.args.indexOf("-o") + 1]);
  expect(readFileSync(finalFile, "utf8")).toBe("Fixed: the tests pass.");
  const sessions = join(home, "sessions");
  expect(existsSync(sessions)).toBe(true);
  const rollouts = [...new Bun.Glob("**/rollout-*.jsonl").scanSync(sessions)];
  expect(rollouts).toHaveLength(1);
});
