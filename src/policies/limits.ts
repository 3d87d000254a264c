import { z } from "zod";
import { configError } from "../configError.js";

/** Per-task limits. Every field optional: no limit when omitted. */
export interface Limits {
  /** Maximum cost of the task, in USD. A model call whose worst-case cost would cross it is refused. */
  maxCostUsd?: number;
  /** Maximum tokens (input + output) over the task's model calls. */
  maxTokens?: number;
  /** Maximum node executions. */
  maxSteps?: number;
  /** Maximum nesting of graphs (a subgraph or an agent inside a node is one level deeper; the task is 0). */
  maxDepth?: number;
  /** Maximum wall time of the task, in milliseconds; at most `MAX_TIMER_MS` (about 24.8 days). */
  maxDurationMs?: number;
  /** Maximum tool calls in the task. */
  maxToolCalls?: number;
  /** Maximum calls per tool, by tool name (`"*"` for every tool without its own entry). */
  maxToolCallsPerTool?: Record<string, number>;
}

/** The longest delay a Node.js timer holds (2^31 − 1 ms); a longer one would fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

const count = z.number().int().min(0);
const amount = z.number().min(0).finite();

export const limitsSchema = z.strictObject({
  maxCostUsd: amount.optional(),
  maxTokens: count.optional(),
  maxSteps: count.optional(),
  maxDepth: count.optional(),
  maxDurationMs: amount.max(MAX_TIMER_MS).optional(),
  maxToolCalls: count.optional(),
  maxToolCallsPerTool: z.record(z.string(), count).optional(),
});

/** Validates limits given per invoke (`configurable.agentwarden.limits`), naming the field. */
export function parseLimits(value: unknown, where: string): Limits {
  const parsed = limitsSchema.safeParse(value);
  if (!parsed.success) throw configError(parsed.error, value, where);
  return parsed.data;
}

/** The Warden's limits overridden, field by field, by an invoke's own. */
export function mergeLimits(base: Limits, override: Limits | undefined): Limits {
  if (!override) return base;
  return {
    ...base,
    ...override,
    ...(base.maxToolCallsPerTool || override.maxToolCallsPerTool
      ? { maxToolCallsPerTool: { ...base.maxToolCallsPerTool, ...override.maxToolCallsPerTool } }
      : {}),
  };
}
