import { z } from "zod";
import type { EvalResult } from "../evals/Evaluator.js";
import type { TaskSummary } from "../metrics/summary.js";
import type { TaskOutcome } from "../run/run.js";
import type { TokenUsage } from "../run/usage.js";

/** Default of `online.sampleRate`: one task in ten is evaluated. */
export const DEFAULT_ONLINE_SAMPLE_RATE = 0.1;
/** Default of `online.outcomes`: tasks that ended (cancelled and interrupted ones are not evaluated). */
export const DEFAULT_ONLINE_OUTCOMES: readonly TaskOutcome[] = ["success", "failure"];
/** Default of `online.queueSize`: sampled tasks waiting for evaluation; beyond it they are dropped and counted. */
export const DEFAULT_ONLINE_QUEUE_SIZE = 1_000;
/** Default of `online.concurrency`: tasks evaluated at the same time. */
export const DEFAULT_ONLINE_CONCURRENCY = 2;
/** Default of `online.timeoutMs`: an evaluator still running after this is abandoned (an eval error). */
export const DEFAULT_ONLINE_TIMEOUT_MS = 60_000;

/** What an online evaluator is given: the finished task's summary, its input and its final output. */
export interface OnlineTask {
  summary: TaskSummary;
  /** The task's input (what `invoke` was given). */
  input: unknown;
  /** The task's final output (its last state); undefined when it produced none. */
  output: unknown;
}

/** Lets an evaluator account for the model calls it makes (an LLM judge). */
export interface JudgeContext {
  /**
   * Prices a judge's model call with the Warden's price table and counts it as evaluation cost
   * (shown beside the agent's own cost, never added to it). Returns the cost, or undefined when the
   * model has no price (then counted as an unknown-cost call, never 0).
   */
  charge(model: string, usage: TokenUsage): number | undefined;
  /** Aborted when the evaluation times out (`timeoutMs`) or the Warden shuts down. */
  signal: AbortSignal;
}

/**
 * An evaluator run after a task has ended, off the agent's path, on a sample of tasks. Returning
 * `true`/`false` is shorthand for `{ pass }`; throwing is an eval error.
 */
export interface OnlineEvaluator {
  /** Low-cardinality name (`helpfulness`, `faithfulness`). */
  name: string;
  evaluate(task: OnlineTask, context: JudgeContext): boolean | EvalResult | Promise<boolean | EvalResult>;
}

export interface OnlineEvalOptions {
  evaluators: OnlineEvaluator[];
  /**
   * Share of tasks evaluated, from 0 to 1, chosen consistently per task id (the same id is always
   * in or out). Default 0.1 (`DEFAULT_ONLINE_SAMPLE_RATE`).
   */
  sampleRate?: number;
  /** Only tasks of these agents (graph names). Default all. */
  agents?: string[];
  /** Only tasks with these outcomes. Default `["success", "failure"]` (`DEFAULT_ONLINE_OUTCOMES`). */
  outcomes?: TaskOutcome[];
  /** Tasks waiting for evaluation at most; more are dropped and counted. Default 1000. */
  queueSize?: number;
  /** Tasks evaluated at the same time. Default 2. */
  concurrency?: number;
  /** An evaluator running longer is abandoned and recorded as an eval error. Default 60000. */
  timeoutMs?: number;
  /**
   * The evaluation cost budget: at most `usd` of judge cost per `perSeconds` (default: the
   * Warden's lifetime). Once spent, sampled tasks are dropped (counted as `budget`) until the
   * window turns. Default none.
   */
  budget?: { usd: number; perSeconds?: number };
}

/** @internal */
export interface ResolvedOnline {
  evaluators: OnlineEvaluator[];
  sampleRate: number;
  agents: ReadonlySet<string> | undefined;
  outcomes: ReadonlySet<TaskOutcome>;
  queueSize: number;
  concurrency: number;
  timeoutMs: number;
  budget: { usd: number; perSeconds: number | undefined } | undefined;
}

/** The zod schema of `WardenOptions.online`. */
export const onlineSchema = z.strictObject({
  evaluators: z
    .array(
      z.custom<OnlineEvaluator>(
        (e) =>
          typeof (e as OnlineEvaluator | null)?.name === "string" &&
          typeof (e as OnlineEvaluator | null)?.evaluate === "function",
        { message: "expected an evaluator { name: string, evaluate(task, context) }" },
      ),
    )
    .min(1),
  sampleRate: z.number().min(0).max(1).optional(),
  agents: z.array(z.string()).optional(),
  outcomes: z.array(z.enum(["success", "failure", "interrupted", "cancelled"])).optional(),
  queueSize: z.number().int().min(1).max(10_000_000).optional(),
  concurrency: z.number().int().min(1).max(1_000).optional(),
  timeoutMs: z.number().int().min(1).max(2_147_483_647).optional(),
  budget: z
    .strictObject({
      usd: z.number().min(0),
      perSeconds: z
        .number()
        .min(1)
        .max(366 * 24 * 3600)
        .optional(),
    })
    .optional(),
});

export function resolveOnline(o: z.infer<typeof onlineSchema>): ResolvedOnline {
  return {
    evaluators: [...o.evaluators],
    sampleRate: o.sampleRate ?? DEFAULT_ONLINE_SAMPLE_RATE,
    agents: o.agents ? new Set(o.agents) : undefined,
    outcomes: new Set(o.outcomes ?? DEFAULT_ONLINE_OUTCOMES),
    queueSize: o.queueSize ?? DEFAULT_ONLINE_QUEUE_SIZE,
    concurrency: o.concurrency ?? DEFAULT_ONLINE_CONCURRENCY,
    timeoutMs: o.timeoutMs ?? DEFAULT_ONLINE_TIMEOUT_MS,
    budget: o.budget ? { usd: o.budget.usd, perSeconds: o.budget.perSeconds } : undefined,
  };
}
