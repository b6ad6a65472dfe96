import { describe, expect, test } from "bun:test";
import { formatReviewAnswer } from "../../src/core/review/format.ts";

const finding = (extra: Record<string, unknown> = {}) => ({
  title: "Leaks the handle",
  body: "Opened, never closed.",
  confidence_score: 0.9,
  priority: 2,
  code_location: { absolute_file_path: "/r/x.ts", line_range: { start: 4, end: 9 } },
  ...extra,
});

describe("formatReviewAnswer", () => {
  test("explanation, `Review comment:`, the finding tagged with its priority, body indented", () => {
    const text = formatReviewAnswer(JSON.stringify({ findings: [finding()], overall_explanation: "One leak." }));
    expect(text).toBe("One leak.\n\nReview comment:\n\n- [P2] Leaks the handle — /r/x.ts:4-9\n  Opened, never closed.");
  });

  test("a title that already carries its tag keeps it; a fenced answer is read too", () => {
    const json = JSON.stringify({ findings: [finding({ title: "[P0] Leaks the handle" })], overall_explanation: "Bad." });
    expect(formatReviewAnswer("```json\n" + json + "\n```")).toBe("Bad.\n\nReview comment:\n\n- [P0] Leaks the handle — /r/x.ts:4-9\n  Opened, never closed.");
  });

  test("no findings: the explanation alone; nothing at all: a sentence saying so", () => {
    expect(formatReviewAnswer(JSON.stringify({ findings: [], overall_explanation: "All good." }))).toBe("All good.");
    expect(formatReviewAnswer(JSON.stringify({ findings: [], overall_explanation: "" }))).toBe("The review found nothing to report.");
  });

  test("an answer that is not review JSON passes through unchanged", () => {
    for (const answer of ["Looks fine.", '{"verdict":"ok"}', "[1,2]", ""]) expect(formatReviewAnswer(answer)).toBe(answer);
  });
});
