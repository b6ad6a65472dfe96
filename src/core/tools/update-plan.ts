// update_plan: the model keeps a checklist of its steps. The first call of a turn starts a
// todo_list item, later calls update it, and the turn's end completes it.
import * as v from "valibot";
import type { TodoListItem } from "../events.ts";
import { defineTool } from "./define-tool.ts";

const parameters = () => v.object({
  explanation: v.optional(v.string()),
  plan: v.array(v.object({ step: v.string(), status: v.picklist(["pending", "in_progress", "completed"]) })),
});

const PLAN_KEY = "update_plan";

export const updatePlanTool = defineTool({
  name: "update_plan",
  description:
    "Records your plan for the task as a checklist the user can follow. Send the whole plan each time: " +
    "every step with its status (pending, in_progress or completed), and optionally a short explanation of " +
    "what changed. Keep at most one step in_progress.",
  parameters,
  jsonSchema: {
    type: "object",
    properties: {
      explanation: { type: "string", description: "Why the plan changed, in a sentence or two." },
      plan: {
        type: "array",
        description: "The steps, in order.",
        items: {
          type: "object",
          properties: {
            step: { type: "string" },
            status: { type: "string", enum: ["pending", "in_progress", "completed"] },
          },
          required: ["step", "status"],
          additionalProperties: false,
        },
      },
    },
    required: ["plan"],
    additionalProperties: false,
  },
  async execute(args, ctx) {
    const items = args.plan.map((s) => ({ text: s.step, completed: s.status === "completed" }));
    let current = ctx.turn.state.get(PLAN_KEY) as TodoListItem | undefined;
    const first = current === undefined;
    current = { id: current?.id ?? ctx.nextItemId(), type: "todo_list", items };
    ctx.turn.state.set(PLAN_KEY, current);
    ctx.detail(current.id, { kind: "plan", explanation: args.explanation, steps: args.plan });
    if (first) {
      ctx.itemStarted(current);
      ctx.turn.atEnd(() => ctx.itemCompleted(ctx.turn.state.get(PLAN_KEY) as TodoListItem));
    } else {
      ctx.itemUpdated(current);
    }
    return "Plan updated";
  },
});
