// Human mode (contract section 3.1): header and transcript on stderr, only the final message on
// stdout (and not even that when both streams are terminals: it is already on screen). What the
// model, a command or a file says is shown on stderr with its control characters escaped (ESC as
// `\x1b`), so it cannot move the cursor, retitle the window or set the clipboard (OSC 52); only
// ocx's own colours reach the terminal. The final message on stdout stays byte-exact.
import { blendedTokens, formatTokens, formatUsd } from "../agent/usage.ts";
import type { ItemDetail, ThreadEvent, ThreadItem } from "../events.ts";
import type { OutputSink } from "../runtime.ts";
import { type OutputProcessor, type RunHeader, writeLine } from "./processor.ts";

export interface HumanOptions {
  stdout: OutputSink;
  stderr: OutputSink;
  color: boolean;
  /** Monotonic milliseconds, for command durations. */
  monotonic(): number;
}

const MAX_OUTPUT_LINES = 20;

export function humanProcessor(opts: HumanOptions): OutputProcessor {
  const { stdout, stderr } = opts;
  const sgr = (code: string) => (s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const style = {
    bold: sgr("1"),
    dim: sgr("2"),
    italic: sgr("3"),
    cyan: sgr("36"),
    magenta: sgr("35;1"),
    green: sgr("32"),
    red: sgr("31"),
    reasoning: sgr("2;3"),
  };
  const line = (s = "") => stderr.write(`${s}\n`);
  const started = new Map<string, number>();
  const details = new Map<string, ItemDetail>();
  const takeDetail = (id: string) => {
    const d = details.get(id);
    details.delete(id);
    return d;
  };
  let workdir = "";

  const onItem = (phase: "started" | "updated" | "completed", item: ThreadItem) => {
    switch (item.type) {
      case "agent_message":
        line(style.magenta("ocx"));
        line(esc(item.text));
        break;
      case "reasoning":
        line(style.reasoning(esc(item.text)));
        break;
      case "command_execution":
        if (phase === "started" || (phase === "completed" && !started.has(item.id))) {
          line(style.magenta("exec"));
          line(`${style.bold(esc(item.command))} in ${esc(workdir)}`);
        }
        if (phase === "started") {
          started.set(item.id, opts.monotonic());
        } else if (phase === "completed" && !started.has(item.id)) {
          // Completed without a start: never run (a hook blocked it); the output says why.
          line(style.red(" not run:"));
          line(style.dim(esc(item.aggregated_output)));
        } else if (phase === "completed") {
          const ms = Math.round(opts.monotonic() - started.get(item.id)!);
          const verdict =
            item.exit_code === 0
              ? style.green(` succeeded in ${ms}ms:`)
              : style.red(` exited ${item.exit_code ?? "(killed)"} in ${ms}ms:`);
          line(verdict);
          const out = truncateLines(esc(item.aggregated_output), MAX_OUTPUT_LINES);
          if (out) line(style.dim(out));
        }
        break;
      case "file_change":
        if (phase === "started") {
          line(style.magenta("apply patch"));
        } else if (phase === "completed") {
          line(item.status === "completed" ? style.green("patch: completed") : style.red("patch: failed"));
          for (const c of item.changes) line(`${KIND_LETTER[c.kind]} ${esc(c.path)}`);
          const d = takeDetail(item.id);
          if (d?.kind === "diff") {
            const text = d.text();
            if (text) line(colorDiff(esc(text), style));
          }
        }
        break;
      case "todo_list": {
        if (phase === "completed") break;
        const d = takeDetail(item.id);
        if (d?.kind === "plan") {
          if (d.explanation) line(style.italic(esc(d.explanation)));
          for (const s of d.steps) line(`  ${PLAN_MARK[s.status]} ${s.status === "in_progress" ? style.cyan(esc(s.step)) : esc(s.step)}`);
        } else {
          for (const i of item.items) line(`  ${i.completed ? PLAN_MARK.completed : PLAN_MARK.pending} ${esc(i.text)}`);
        }
        break;
      }
      case "mcp_tool_call": {
        const name = `${esc(item.server)}/${esc(item.tool)}`;
        if (phase === "started") {
          line(`${style.magenta("mcp:")} ${name} started`);
        } else if (phase === "completed") {
          const ok = item.status === "completed";
          line(`${style.magenta("mcp:")} ${name} ${ok ? style.green("(completed)") : style.red("(failed)")}`);
          const text = item.error?.message ?? mcpResultText(item.result);
          const out = truncateLines(esc(text), MAX_OUTPUT_LINES);
          if (out) line(style.dim(out));
        }
        break;
      }
      case "web_search":
        // Once, when the query is known (the started item has none yet).
        if (phase === "completed") line(`${style.magenta("web search:")} ${esc(item.query)}`);
        break;
      case "error":
        line(`warning: ${esc(item.message)}`);
        break;
      default:
        break;
    }
  };

  return {
    header(h: RunHeader) {
      workdir = h.workdir;
      line(`ocx v${h.version}`);
      line("--------");
      const rows: Array<[string, string]> = [
        ["workdir", h.workdir],
        ["model", h.model],
        ["provider", h.provider],
        ["approval", "never"],
        ["sandbox", h.sandbox],
        ["reasoning effort", h.reasoningEffort],
        ["reasoning summaries", h.reasoningSummaries],
        ["session id", h.sessionId],
      ];
      for (const [k, v] of rows) line(`${style.bold(`${k}:`)} ${esc(v)}`);
      line("--------");
      line(style.cyan("user"));
      line(esc(h.prompt));
    },
    emit(event: ThreadEvent) {
      switch (event.type) {
        case "item.started":
        case "item.updated":
        case "item.completed":
          onItem(event.type.slice(5) as "started" | "updated" | "completed", event.item);
          break;
        case "error":
          // A fatal error is followed by turn.failed, which prints it once.
          if (event.message.startsWith("Reconnecting...")) line(`warning: ${esc(event.message)}`);
          break;
        case "turn.failed":
          line(style.red(`ERROR: ${esc(event.error.message)}`));
          break;
        case "turn.completed": {
          // The thread's blended total, as the reference prints it; ocx adds this run's cost.
          line(style.dim("tokens used"));
          const cost = event.cost_usd === undefined ? "" : ` (${formatUsd(event.cost_usd)} this run)`;
          line(`${formatTokens(blendedTokens(event.usage))}${cost}`);
          break;
        }
        default:
          break;
      }
    },
    detail(id, d) {
      details.set(id, d);
    },
    warn(message) {
      line(`warning: ${esc(message)}`);
    },
    notice(message) {
      line(esc(message));
    },
    finish(outcome) {
      if (outcome.hint) line(outcome.hint);
      const text = outcome.lastAgentMessage;
      if (!outcome.ok || text === undefined) return;
      if (stdout.isTTY && stderr.isTTY) return;
      writeLine(stdout, text);
    },
  };
}

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const CONTROLS = /\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text for a terminal: C0 and C1 control characters (ESC, BEL, CSI, a lone CR...) and DEL shown
 * as `\xHH` instead of obeyed; newlines and tabs stay, CRLF becomes a newline.
 */
export function esc(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROLS, (c) => (c === "\r\n" ? "\n" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}

const KIND_LETTER = { add: "A", delete: "D", update: "M" } as const;
const PLAN_MARK = { completed: "✓", in_progress: "→", pending: "•" } as const;

function colorDiff(text: string, style: { green(s: string): string; red(s: string): string; cyan(s: string): string }) {
  return text
    .split("\n")
    .map((l) =>
      l.startsWith("+++") || l.startsWith("---")
        ? l
        : l.startsWith("+")
          ? style.green(l)
          : l.startsWith("-")
            ? style.red(l)
            : l.startsWith("@@")
              ? style.cyan(l)
              : l,
    )
    .join("\n");
}

function truncateLines(text: string, max: number): string {
  const trimmed = text.replace(/\n$/, "");
  if (trimmed === "") return "";
  const lines = trimmed.split("\n");
  if (lines.length <= max + 1) return trimmed; // never replace one line by a marker line
  const head = lines.slice(0, max / 2);
  const tail = lines.slice(-max / 2);
  return [...head, `... (${lines.length - max} lines omitted)`, ...tail].join("\n");
}

/** The text blocks of an MCP result (other blocks by their type), for the short human summary. */
function mcpResultText(result: { content: unknown[]; structured_content: unknown } | null): string {
  if (!result) return "";
  return result.content
    .map((b) => {
      const block = b as { type?: unknown; text?: unknown };
      return typeof block.text === "string" ? block.text : `[${String(block.type ?? "content")}]`;
    })
    .join("\n");
}
