// The review answer: the model answers with review JSON (instructions.ts); ocx prints it as the
// reference does: the overall explanation, then `Review comment:` (or `Full review comments:`)
// and one `- [P1] title — path:start-end` block per finding, its body indented. An answer that
// is not review JSON is passed through as it is.

interface Finding {
  title: string;
  body: string;
  priority?: number;
  path: string;
  start?: number;
  end?: number;
}

export function formatReviewAnswer(answer: string): string {
  const review = parseReview(answer);
  if (!review) return answer;
  const sections: string[] = [];
  if (review.explanation) sections.push(review.explanation);
  if (review.findings.length > 0) {
    const lines = [review.findings.length > 1 ? "Full review comments:" : "Review comment:"];
    for (const f of review.findings) {
      lines.push("", `- ${tagged(f)} — ${location(f)}`);
      for (const l of f.body.split("\n")) lines.push(`  ${l}`.trimEnd());
    }
    sections.push(lines.join("\n"));
  }
  return sections.length > 0 ? sections.join("\n\n") : "The review found nothing to report.";
}

/** `[P1] title`: the priority tag, unless the title already starts with one. */
function tagged(f: Finding): string {
  if (/^\[P\d\]/.test(f.title) || f.priority === undefined) return f.title;
  return `[P${f.priority}] ${f.title}`;
}

function location(f: Finding): string {
  if (f.start === undefined) return f.path;
  return `${f.path}:${f.start}-${f.end ?? f.start}`;
}

function parseReview(answer: string): { explanation: string; findings: Finding[] } | undefined {
  // Models sometimes fence their JSON.
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(answer);
  let data: unknown;
  try {
    data = JSON.parse(fenced ? fenced[1]! : answer);
  } catch {
    return undefined;
  }
  const o = record(data);
  if (!o || (!Array.isArray(o.findings) && typeof o.overall_explanation !== "string")) return undefined;
  const findings: Finding[] = [];
  for (const raw of Array.isArray(o.findings) ? o.findings : []) {
    const f = record(raw);
    if (!f) continue;
    const loc = record(f.code_location);
    const range = record(loc?.line_range);
    findings.push({
      title: str(f.title).trim() || "(untitled finding)",
      body: str(f.body).trim(),
      priority: int(f.priority),
      path: str(loc?.absolute_file_path) || "(no file)",
      start: int(range?.start),
      end: int(range?.end),
    });
  }
  return { explanation: str(o.overall_explanation).trim(), findings };
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined);
