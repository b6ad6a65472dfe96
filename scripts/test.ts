// `npm test`: the whole suite (unit + end-to-end against dist/ocx) under bun test, closing with
// the plain line CI reads: "N passed, N failed, N skipped". Keeps bun's exit code.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = process.env.OCX_BIN ?? "dist/ocx";

/** Newest modification time under a directory. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

// The end-to-end tests run the compiled binary: build it when it is missing or older than src/.
if (!process.env.OCX_BIN && (!existsSync(bin) || statSync(bin).mtimeMs < newest("src"))) {
  const build = Bun.spawnSync([process.execPath, "build.ts"], { stdio: ["ignore", "inherit", "inherit"] });
  if (build.exitCode !== 0) {
    console.log("0 passed, 1 failed, 0 skipped");
    process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), "ocx-junit-"));
const xml = join(dir, "junit.xml");
// The tests get a TMPDIR of their own: what they leave there is found and reported, then removed.
const testTmp = mkdtempSync(join(tmpdir(), "ocx-test-tmp-"));
chmodSync(testTmp, 0o1777); // as /tmp: tests that run ocx as an unprivileged user need it
const args = process.argv.slice(2);
const proc = Bun.spawn(
  [process.execPath, "test", "--timeout", "60000", "--reporter=junit", `--reporter-outfile=${xml}`, ...(args.length ? args : ["test/"])],
  { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, TMPDIR: testTmp } },
);
let code = await proc.exited;
const leftovers = readdirSync(testTmp).filter((n) => n.startsWith("ocx-"));
rmSync(testTmp, { recursive: true, force: true });

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(xml)) {
  const tag = /<testsuites\b([^>]*)>/.exec(readFileSync(xml, "utf8"))?.[1] ?? "";
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(tag)?.[1] ?? 0);
  skipped = attr("skipped");
  failed = attr("failures") + attr("errors");
  passed = attr("tests") - failed - skipped;
}
rmSync(dir, { recursive: true, force: true });
if (code !== 0 && failed === 0) failed = 1; // a crash or "no tests found" must not read as green
if (leftovers.length > 0) {
  console.error(`test: the tests left ${leftovers.length} temporary directories in TMPDIR: ${leftovers.slice(0, 10).join(", ")}${leftovers.length > 10 ? ", ..." : ""}`);
  failed += 1;
  if (code === 0) code = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
