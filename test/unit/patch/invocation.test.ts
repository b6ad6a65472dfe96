import { describe, expect, test } from "bun:test";
import { parsePatchInvocation } from "../../../src/core/patch/invocation.ts";

const PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch";
/** `opener`, the patch, then the closing line. */
const heredoc = (opener: string, close = "EOF") => `${opener}\n${PATCH}\n${close}`;

describe("parsePatchInvocation: recognised", () => {
  const cases: Array<[string, string, ReturnType<typeof parsePatchInvocation>]> = [
    ["<<'EOF'", heredoc("apply_patch <<'EOF'"), { patch: PATCH }],
    ["<<EOF", heredoc("apply_patch <<EOF"), { patch: PATCH }],
    ['<<"EOF"', heredoc('apply_patch <<"EOF"'), { patch: PATCH }],
    ["<< 'EOF' (space after <<)", heredoc("apply_patch << 'EOF'"), { patch: PATCH }],
    ["<<-EOF", heredoc("apply_patch <<-EOF"), { patch: PATCH }],
    ["another delimiter", heredoc("apply_patch <<'PATCH'", "PATCH"), { patch: PATCH }],
    ["applypatch", heredoc("applypatch <<'EOF'"), { patch: PATCH }],
    ["<<- strips leading tabs from body and delimiter", "apply_patch <<-EOF\n\t*** Begin Patch\n\t*** End Patch\n\tEOF", { patch: "*** Begin Patch\n*** End Patch" }],
    ["trailing newline and blanks after the delimiter", `${heredoc("apply_patch <<'EOF'")}\n  \n`, { patch: PATCH }],
    ["leading whitespace", `  \n${heredoc("apply_patch <<'EOF'")}`, { patch: PATCH }],
    ["body kept as written (CR, blank lines)", "apply_patch <<'EOF'\n*** Begin Patch\r\n\n*** End Patch\nEOF", { patch: "*** Begin Patch\r\n\n*** End Patch" }],
    ["cd DIR &&", heredoc("cd sub && apply_patch <<'EOF'"), { patch: PATCH, cd: "sub" }],
    ["cd 'a b' &&", heredoc("cd 'a b' && apply_patch <<EOF"), { patch: PATCH, cd: "a b" }],
    ['cd "quoted \\"dir\\"" &&', heredoc('cd "quoted \\"dir\\"" && apply_patch <<EOF'), { patch: PATCH, cd: 'quoted "dir"' }],
    ["cd /abs/path&&applypatch", heredoc("cd /abs/path&&applypatch <<EOF"), { patch: PATCH, cd: "/abs/path" }],
    ["single-quoted argument", `apply_patch '${PATCH}'`, { patch: PATCH }],
    ["double-quoted argument with escapes", 'apply_patch "*** Begin Patch\n*** Add File: q\n+say \\"hi\\" \\$HOME\n*** End Patch"', {
      patch: '*** Begin Patch\n*** Add File: q\n+say "hi" $HOME\n*** End Patch',
    }],
    ["argument form after cd", `cd src && applypatch '${PATCH}'`, { patch: PATCH, cd: "src" }],
    ["argument starting with blank lines", `apply_patch '\n  ${PATCH}\n'`, { patch: `\n  ${PATCH}\n` }],
  ];
  test.each(cases)("%s", (_name, cmd, expected) => {
    expect(parsePatchInvocation(cmd)).toEqual(expected);
  });
});

describe("parsePatchInvocation: anything else is a command (null)", () => {
  const cases: Array<[string, string]> = [
    ["echo apply_patch", "echo apply_patch"],
    ["echo before the heredoc", heredoc("echo x; apply_patch <<'EOF'")],
    ["no closing delimiter", `apply_patch <<EOF\n${PATCH}`],
    ["wrong closing delimiter", heredoc("apply_patch <<'EOF'", "END")],
    ["mismatched quotes around the delimiter", heredoc("apply_patch <<'EOF\"")],
    ["cat heredoc", heredoc("cat <<'EOF'")],
    ["cat heredoc into apply_patch", heredoc("cat <<'EOF' | apply_patch")],
    ["apply_patch --help", "apply_patch --help"],
    ["bare apply_patch", "apply_patch"],
    ["apply_patch reading a file", "apply_patch < fix.patch"],
    ["a command after the heredoc opener", heredoc("apply_patch <<'EOF' && rm -rf x")],
    ["a command after the closing delimiter", `${heredoc("apply_patch <<'EOF'")}\nrm -rf x`],
    ["the body ends at the first delimiter line; a script follows", `${heredoc("apply_patch <<'EOF'")}\nrm -rf x\nEOF`],
    ["a delimiter line with trailing spaces does not close the heredoc", `apply_patch <<'EOF'\n${PATCH}\nEOF  `],
    ["a command after the closing delimiter on one line", `${heredoc("apply_patch <<'EOF'")}; rm -rf x`],
    ["a prefix of the name", heredoc("apply_patches <<'EOF'")],
    ["a path to some other binary", heredoc("/usr/bin/apply_patch2 <<'EOF'")],
    ["a command other than cd before &&", heredoc("rm -rf x && apply_patch <<'EOF'")],
    ["cd with || instead of &&", heredoc("cd sub || apply_patch <<'EOF'")],
    ["argument that is not a patch", "apply_patch 'hello'"],
    ["unquoted argument", "apply_patch patch.txt"],
    ["two arguments", `apply_patch '${PATCH}' extra`],
    ["empty command", ""],
  ];
  test.each(cases)("%s", (_name, cmd) => {
    expect(parsePatchInvocation(cmd)).toBeNull();
  });
});
