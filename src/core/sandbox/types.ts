// The shapes the sandbox port speaks in: what a command's confinement must enforce (SandboxSpec)
// and what a host can enforce (SandboxCapabilities). Types only, importing nothing, so that the
// Runtime port can name them without depending on the policy code above it.

export interface SandboxSpec {
  /** Absolute paths under which writing is allowed (directories or single files). */
  writable: string[];
  /** Outbound and inbound network allowed. */
  network: boolean;
  /**
   * Paths inside the writable ones that stay read-only (`.git`, `.codex`, `.agents`, `.aws` at
   * the top of each root, and CODEX_HOME). Candidates: the enforcer skips those that do not exist.
   */
  readOnly: string[];
  /** Files no command may read (auth.json and its locks). Candidates, like readOnly. */
  hide: string[];
  /** How the command's view is built; decided from what the host can do (confinedArgv). */
  view: SandboxView;
  /**
   * danger-full-access: nothing confined, but the command still runs under ocx's init, so that
   * nothing it starts outlives it or ocx.
   */
  unconfined?: boolean;
}

/** The namespace-built view (Linux): absent where user namespaces are not available. */
export interface SandboxView {
  /** A user + mount + pid namespace: everything read-only but the roots, carve-outs on top. */
  namespaces: boolean;
  /** A fresh /proc of the command's own pid namespace. */
  freshProc: boolean;
  /** A devpts instance of the sandbox's own. */
  privatePts: boolean;
  /**
   * The init supervises calls through seccomp user notification: without namespaces, metadata
   * changes (chmod, chown, xattrs, timestamps) are checked against the roots; with the network
   * off, connections to Unix sockets are allowed only to sockets inside the roots.
   */
  supervised: boolean;
}

/** What a host can enforce, as measured by the platform adapter. */
export interface SandboxCapabilities {
  platform: string;
  /** Linux: the Landlock ABI version, null when Landlock is unavailable. */
  landlockAbi: number | null;
  /** Linux: seccomp filters can be installed. */
  seccomp: boolean;
  /** macOS: /usr/bin/sandbox-exec exists. */
  seatbelt: boolean;
  /**
   * Read-only carve-outs inside writable roots can be enforced: Seatbelt on macOS, a user +
   * mount + pid namespace on Linux (the whole namespace-built view). Null until asked (the Linux
   * check clones a process).
   */
  carveOuts: boolean | null;
  /** Linux, with namespaces: a fresh /proc can be mounted in the command's pid namespace. */
  freshProc?: boolean;
  /** Linux, with namespaces: a private devpts instance can be mounted. */
  privatePts?: boolean;
  /** Linux: seccomp user notification works and this build has the init to answer it. */
  supervisor?: boolean;
  /** Linux: this build has the init (namespace.c), which ends whatever a command leaves behind. */
  runner?: boolean;
  /** Why something is missing, in the host's words (errno text, missing file). */
  problems: string[];
}
