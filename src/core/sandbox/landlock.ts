// Landlock: which access rights ocx handles and grants for an ABI version, and the byte layout
// of the structures the syscalls take. Pure; the Linux adapter makes the calls.
// Facts: include/uapi/linux/landlock.h (access bits, struct layouts) and the kernel's
// Landlock documentation (which ABI introduced which right).

export const SYS_LANDLOCK_CREATE_RULESET = 444; // same number on x86_64 and aarch64
export const SYS_LANDLOCK_ADD_RULE = 445;
export const SYS_LANDLOCK_RESTRICT_SELF = 446;
export const LANDLOCK_CREATE_RULESET_VERSION = 1;
export const LANDLOCK_RULE_PATH_BENEATH = 1;

export const FS = {
  EXECUTE: 1 << 0,
  WRITE_FILE: 1 << 1,
  READ_FILE: 1 << 2,
  READ_DIR: 1 << 3,
  REMOVE_DIR: 1 << 4,
  REMOVE_FILE: 1 << 5,
  MAKE_CHAR: 1 << 6,
  MAKE_DIR: 1 << 7,
  MAKE_REG: 1 << 8,
  MAKE_SOCK: 1 << 9,
  MAKE_FIFO: 1 << 10,
  MAKE_BLOCK: 1 << 11,
  MAKE_SYM: 1 << 12,
  REFER: 1 << 13, // ABI 2
  TRUNCATE: 1 << 14, // ABI 3
  IOCTL_DEV: 1 << 15, // ABI 5
} as const;

export const NET = { BIND_TCP: 1 << 0, CONNECT_TCP: 1 << 1 } as const; // ABI 4

/** IPC scoping (ABI 6): the sandbox may not reach these outside its own domain. */
export const SCOPE = { ABSTRACT_UNIX_SOCKET: 1 << 0, SIGNAL: 1 << 1 } as const;
export const LANDLOCK_SCOPE_ABI = 6;

/** Rights that only make sense on a file (a rule on a file may carry nothing else). */
const FILE_WRITE_RIGHTS = FS.WRITE_FILE | FS.TRUNCATE | FS.IOCTL_DEV;

/** Every right that changes the filesystem; reads and execution stay unrestricted. */
const WRITE_RIGHTS =
  FILE_WRITE_RIGHTS |
  FS.REMOVE_DIR |
  FS.REMOVE_FILE |
  FS.MAKE_CHAR |
  FS.MAKE_DIR |
  FS.MAKE_REG |
  FS.MAKE_SOCK |
  FS.MAKE_FIFO |
  FS.MAKE_BLOCK |
  FS.MAKE_SYM |
  FS.REFER;

/** The rights an ABI version knows; passing unknown bits makes the kernel return EINVAL. */
export function knownFsRights(abi: number): number {
  let mask = (1 << 13) - 1; // ABI 1: EXECUTE .. MAKE_SYM
  if (abi >= 2) mask |= FS.REFER;
  if (abi >= 3) mask |= FS.TRUNCATE;
  if (abi >= 5) mask |= FS.IOCTL_DEV;
  return mask;
}

/** Rights the ruleset handles (denied unless a rule grants them). */
export const handledFs = (abi: number) => WRITE_RIGHTS & knownFsRights(abi);

/** Rights granted beneath a writable directory, or on a writable file. */
export function grantedFs(abi: number, isDirectory: boolean): number {
  // REFER is never granted: renames and links between folders would otherwise have to
  // agree on rights; without it, cross-folder renames inside the roots get EXDEV and tools
  // such as mv fall back to copy and delete.
  const rights = isDirectory ? WRITE_RIGHTS & ~FS.REFER : FILE_WRITE_RIGHTS;
  return rights & knownFsRights(abi);
}

/**
 * The IPC scopes for a command: signals reach only the command's own processes (not ocx, its
 * init, or anything else of the user's; a process an earlier command left running is ended with
 * that command anyway), and with the network off, abstract unix sockets outside the sandbox are
 * out of reach too (they are how host services listen without a file; a network namespace hides
 * them the same way).
 */
export const scopes = (abi: number, network: boolean) =>
  abi >= LANDLOCK_SCOPE_ABI ? SCOPE.SIGNAL | (network ? 0 : SCOPE.ABSTRACT_UNIX_SOCKET) : 0;

/** struct landlock_ruleset_attr, sized for the ABI (8 bytes up to ABI 3, 16 from 4, 24 from 6). */
export function rulesetAttr(abi: number, fs: number, net: number, scoped = 0): Uint8Array {
  const size = abi >= LANDLOCK_SCOPE_ABI ? 24 : abi >= 4 ? 16 : 8;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(fs), true);
  if (size >= 16) view.setBigUint64(8, BigInt(net), true);
  if (size >= 24) view.setBigUint64(16, BigInt(scoped), true);
  return bytes;
}

/** struct landlock_path_beneath_attr: u64 allowed_access, s32 parent_fd; packed, 12 bytes. */
export function pathBeneathAttr(allowed: number, fd: number): Uint8Array {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(allowed), true);
  view.setInt32(8, fd, true);
  return bytes;
}

/** Reading rights: handled only when some files must stay unreadable (the credential files). */
export const READ_RIGHTS = { file: FS.READ_FILE, dir: FS.READ_FILE | FS.READ_DIR } as const;

/**
 * Landlock can only grant, so a file stays unreadable by granting reads on everything around
 * it: for each hidden absolute path, every directory on the way down to it, mapped to the names
 * in it that must not be granted (the next step down, or the hidden file itself). Every other
 * entry of those directories gets a read rule, and `/` itself a READ_DIR rule (listing stays
 * possible everywhere).
 */
export function readExclusions(hidden: readonly string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const path of hidden) {
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    let dir = "/";
    for (const name of parts) {
      if (!out.has(dir)) out.set(dir, new Set());
      out.get(dir)!.add(name);
      dir = dir === "/" ? `/${name}` : `${dir}/${name}`;
    }
  }
  return out;
}
