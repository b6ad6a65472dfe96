// The release build checks cross-compiled binaries by their header bytes; these are the headers
// each format starts with, built byte by byte.
import { describe, expect, test } from "bun:test";
import { binaryFormat } from "../../scripts/binary-format.ts";
import { checkBinary, TARGETS } from "../../scripts/build-release.ts";

function elf(machine: number, interpreter?: string): Uint8Array {
  const buf = new Uint8Array(512);
  const dv = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(18, machine, true);
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(54, 56, true); // e_phentsize
  dv.setUint16(56, interpreter ? 1 : 0, true);
  if (interpreter) {
    const bytes = new TextEncoder().encode(`${interpreter}\0`);
    dv.setUint32(64, 3, true); // PT_INTERP
    dv.setBigUint64(64 + 8, 200n, true);
    dv.setBigUint64(64 + 32, BigInt(bytes.length), true);
    buf.set(bytes, 200);
  }
  return buf;
}
function macho(cpu: number): Uint8Array {
  const buf = new Uint8Array(64);
  new DataView(buf.buffer).setUint32(0, 0xfeedfacf, true);
  new DataView(buf.buffer).setUint32(4, cpu, true);
  return buf;
}
function pe(machine: number): Uint8Array {
  const buf = new Uint8Array(256);
  const dv = new DataView(buf.buffer);
  buf.set([0x4d, 0x5a]);
  dv.setUint32(0x3c, 0x80, true);
  dv.setUint32(0x80, 0x00004550, true);
  dv.setUint16(0x84, machine, true);
  return buf;
}
const target = (name: string) => TARGETS.find((t) => t.name === name)!;

describe("binaryFormat", () => {
  test("ELF x64 and arm64 with their loaders", () => {
    expect(binaryFormat(elf(62, "/lib64/ld-linux-x86-64.so.2"))).toEqual({ format: "elf", arch: "x64", interpreter: "/lib64/ld-linux-x86-64.so.2" });
    expect(binaryFormat(elf(183, "/lib/ld-musl-aarch64.so.1"))).toEqual({ format: "elf", arch: "arm64", interpreter: "/lib/ld-musl-aarch64.so.1" });
  });
  test("Mach-O and PE", () => {
    expect(binaryFormat(macho(0x0100000c))).toEqual({ format: "macho", arch: "arm64" });
    expect(binaryFormat(macho(0x01000007))).toEqual({ format: "macho", arch: "x64" });
    expect(binaryFormat(pe(0x8664))).toEqual({ format: "pe", arch: "x64" });
  });
  test("anything else is named, not guessed", () => {
    expect(binaryFormat(new TextEncoder().encode("#!/bin/sh\necho bun\n"))).toBe("not an ELF, Mach-O or PE executable");
    expect(binaryFormat(new Uint8Array([0x4d, 0x5a, ...new Array(100).fill(0)]))).toBe("MZ header without a PE signature");
  });
});

describe("checkBinary", () => {
  test("accepts each target's own header", () => {
    expect(checkBinary(target("linux-x64"), elf(62, "/lib64/ld-linux-x86-64.so.2"))).toBeNull();
    expect(checkBinary(target("linux-arm64-musl"), elf(183, "/lib/ld-musl-aarch64.so.1"))).toBeNull();
    expect(checkBinary(target("darwin-arm64"), macho(0x0100000c))).toBeNull();
    expect(checkBinary(target("windows-x64"), pe(0x8664))).toBeNull();
  });
  test("rejects the wrong CPU, format or libc", () => {
    expect(checkBinary(target("linux-arm64"), elf(62, "/lib64/ld-linux-x86-64.so.2"))).toBe("is elf x64, expected elf arm64");
    expect(checkBinary(target("darwin-x64"), elf(62))).toBe("is elf x64, expected macho x64");
    expect(checkBinary(target("linux-x64-musl"), elf(62, "/lib64/ld-linux-x86-64.so.2"))).toContain("does not fit a musl build");
    expect(checkBinary(target("linux-x64"), elf(62, "/lib/ld-musl-x86_64.so.1"))).toContain("does not fit a glibc build");
  });
  test("every target has a distinct file name", () => {
    expect(new Set(TARGETS.map((t) => t.name)).size).toBe(7);
  });
});
