// Reads an executable's header bytes to tell its format and CPU (ELF, Mach-O, PE), so that the
// release build can check a cross-compiled binary without running it and without `file`.

export interface BinaryFormat {
  format: "elf" | "macho" | "pe";
  arch: "x64" | "arm64" | "other";
  /** ELF only: the program interpreter (dynamic loader), e.g. /lib/ld-musl-x86_64.so.1. */
  interpreter?: string;
}

/** The format of `bytes` (the start of the file; 64 KiB is plenty), or a reason it is none. */
export function binaryFormat(bytes: Uint8Array): BinaryFormat | string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number) => bytes.length >= n;
  if (need(20) && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    if (bytes[4] !== 2) return "ELF, but not 64-bit";
    const le = bytes[5] === 1;
    const machine = dv.getUint16(18, le);
    const arch = machine === 62 ? "x64" : machine === 183 ? "arm64" : "other";
    return { format: "elf", arch, interpreter: elfInterpreter(dv, le) };
  }
  if (need(8) && dv.getUint32(0, true) === 0xfeedfacf) {
    const cpu = dv.getUint32(4, true);
    return { format: "macho", arch: cpu === 0x01000007 ? "x64" : cpu === 0x0100000c ? "arm64" : "other" };
  }
  if (need(0x40) && bytes[0] === 0x4d && bytes[1] === 0x5a) {
    const pe = dv.getUint32(0x3c, true);
    if (!need(pe + 6) || dv.getUint32(pe, true) !== 0x00004550) return "MZ header without a PE signature";
    const machine = dv.getUint16(pe + 4, true);
    return { format: "pe", arch: machine === 0x8664 ? "x64" : machine === 0xaa64 ? "arm64" : "other" };
  }
  return "not an ELF, Mach-O or PE executable";
}

function elfInterpreter(dv: DataView, le: boolean): string | undefined {
  const phoff = Number(dv.getBigUint64(32, le));
  const phentsize = dv.getUint16(54, le);
  const phnum = dv.getUint16(56, le);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > dv.byteLength) return undefined;
    if (dv.getUint32(at, le) !== 3) continue; // PT_INTERP
    const off = Number(dv.getBigUint64(at + 8, le));
    const size = Number(dv.getBigUint64(at + 32, le));
    if (off + size > dv.byteLength) return undefined;
    return new TextDecoder().decode(new Uint8Array(dv.buffer, dv.byteOffset + off, size)).replace(/\0+$/, "");
  }
  return undefined;
}
