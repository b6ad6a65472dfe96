// src/cli/parse-args.ts against node:util's parseArgs (what ocx used before): the same values,
// positionals, and error codes and messages, on hand-picked and generated command lines.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseArgs as nodeParseArgs } from "node:util";
import { parseArgs, type ArgOption } from "../../src/cli/parse-args.ts";
import { EXEC_FLAGS } from "../../src/cli/exec-flags.ts";

const OPTIONS: Record<string, ArgOption> = {
  json: { type: "boolean", short: "j" },
  all: { type: "boolean", short: "a" },
  last: { type: "boolean" },
  model: { type: "string", short: "m" },
  config: { type: "string", short: "c", multiple: true },
  image: { type: "string", short: "i", multiple: true },
  enable: { type: "boolean", multiple: true, short: "e" },
  cd: { type: "string", short: "C" },
};
const EXEC_OPTIONS: Record<string, ArgOption> = Object.fromEntries(
  Object.entries(EXEC_FLAGS).map(([name, d]) => [name, { type: d.type, ...(d.short ? { short: d.short } : {}), ...(d.multiple ? { multiple: true } : {}) }]),
);

type Outcome = { values: Record<string, unknown>; positionals: string[] } | { error: string; code: unknown };
function outcome(run: () => { values: object; positionals: string[] }): Outcome {
  try {
    const r = run();
    return { values: { ...r.values }, positionals: r.positionals };
  } catch (e) {
    return { error: (e as Error).message, code: (e as { code?: unknown }).code };
  }
}
const ours = (args: string[], options: Record<string, ArgOption>) => outcome(() => parseArgs(args, options));
const node = (args: string[], options: Record<string, ArgOption>) => outcome(() => nodeParseArgs({ args, options, allowPositionals: true, strict: true }));

const WORDS = [
  "--json", "-j", "--all", "-a", "--last", "--model", "-m", "gpt", "-mgpt", "-jm", "-jmgpt", "-ja", "-aj", "-mj", "--model=x", "--model=",
  "--model=-x", "-m-x", "--json=1", "--json=", "-j1", "--config", "-c", "k=v", "-ck=v", "--config=a=b", "-i", "a.png", "--image", "--enable", "-e", "-ee",
  "--", "-", "---", "--x", "-x", "-xyz", "prompt", "two words", "", "-C", "dir", "--cd", "--__proto__", "--constructor", "--toString", "-=", "--=x", "-jC",
];

describe("parseArgs", () => {
  test("hand-picked command lines", () => {
    const cases = [
      [], ["--json", "hi"], ["-j", "-m", "gpt", "hi"], ["-mgpt"], ["-jmgpt"], ["-jm", "gpt"], ["-mj"], ["--model"], ["-m"], ["--model", "--json"], ["-m", "-x"],
      ["--model=-x"], ["-m", "-"], ["--json=1"], ["-j1"], ["--nope"], ["-z"], ["-jz"], ["--", "--json", "-m"], ["-"], ["-c", "a", "-c", "b", "--config=c"],
      ["--enable", "-e"], ["--__proto__"], ["--constructor"], ["--toString"], ["---"], ["--=x"], ["-="],
    ];
    for (const args of cases) expect([args, ours(args, OPTIONS)]).toEqual([args, node(args, OPTIONS)]);
  });

  test("generated command lines, with a test table and with exec's flags", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 7 }), (args) => {
        expect(ours(args, OPTIONS)).toEqual(node(args, OPTIONS));
        expect(ours(args, EXEC_OPTIONS)).toEqual(node(args, EXEC_OPTIONS));
      }),
      { numRuns: 3000 },
    );
  });

  test("generated words", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 6 }), fc.string({ maxLength: 4 }).map((s) => `-${s}`), fc.string({ maxLength: 5 }).map((s) => `--${s}`), fc.array(fc.constantFrom("-", "=", "j", "m", "c", "x", "a", "_"), { maxLength: 6 }).map((cs) => cs.join(""))), { maxLength: 6 }), (args) => {
        expect(ours(args, OPTIONS)).toEqual(node(args, OPTIONS));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("parseFlags: values outside a flag's choices", () => {
  test("the first bad value in the table's order is reported, whatever the order on the command line", async () => {
    const { parseFlags } = await import("../../src/cli/flags.ts");
    const message = (argv: string[]) => {
      try {
        parseFlags(EXEC_FLAGS, argv);
        return "parsed";
      } catch (e) {
        return (e as Error).message.split("\n")[0];
      }
    };
    // In exec's table, sandbox comes before color.
    const names = Object.keys(EXEC_FLAGS);
    expect(names.indexOf("sandbox")).toBeLessThan(names.indexOf("color"));
    const sandbox = "error: invalid value 'x' for '--sandbox': possible values: read-only, workspace-write, danger-full-access";
    expect(message(["--color", "y", "-s", "x", "hi"])).toBe(sandbox);
    expect(message(["-s", "x", "--color", "y", "hi"])).toBe(sandbox);
    expect(message(["--color", "y", "hi"])).toBe("error: invalid value 'y' for '--color': possible values: always, never, auto");
    expect(message(["--color", "never", "-s", "read-only", "hi"])).toBe("parsed");
  });
});
