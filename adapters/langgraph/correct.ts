import { HumanMessage } from "@langchain/core/messages";
import { Command } from "@langchain/langgraph";
import type { Evaluator, Step } from "../../src/index.js";
import { evaluate } from "./evals.js";
import { enterStep } from "./scope.js";

/** An eval-driven correction loop on one node's output. */
export interface Correction {
  /** The node whose output is checked and, on failure, run again. Default: the agent's model node. */
  node?: string;
  evaluators: Evaluator[];
  /** Runs of the node in all, the first included. Default 3 (`DEFAULT_CORRECTION_ATTEMPTS`). */
  maxAttempts?: number;
  /**
   * Check only outputs that are a final answer (the last message an AI message with no tool calls).
   * Default true.
   */
  finalOnly?: boolean;
  /** What a throwing evaluator does: `"fail"` the task (default) or `"continue"` as if it passed. */
  onEvaluatorError?: "fail" | "continue";
}

export const DEFAULT_CORRECTION_ATTEMPTS = 3;

type Invoke = (input: unknown, config: unknown) => Promise<unknown>;

interface MessageLike {
  getType?(): string;
  tool_calls?: unknown[];
}

/**
 * Checks a node's output; while a check fails and attempts remain, appends a corrective message
 * naming the failed check to the conversation and runs the node again (a `recovery` step), stopping
 * early when the score stops improving. The node's output then carries the whole exchange — first
 * answer, correction, new answer — so the correction has its place in the graph state. A final
 * answer still failing after the last attempt makes the task a failure.
 */
export async function correct(
  correction: Correction,
  nodeStep: Step,
  input: unknown,
  config: unknown,
  output: unknown,
  invoke: Invoke,
): Promise<unknown> {
  const run = nodeStep.run;
  // A guard blocked the task: the answer is agentwarden's refusal, not the model's to correct.
  if (run.guardBlocked !== undefined) return output;
  if (correction.finalOnly !== false && !isFinalAnswer(output)) return output;
  const max = correction.maxAttempts ?? DEFAULT_CORRECTION_ATTEMPTS;
  const target = nodeStep.name;
  let current = output;
  let exchange = messagesOf(output);
  let previousScore: number | undefined;
  for (let attempt = 1; ; attempt++) {
    // Checks see the node's output as a state update, whatever its shape (createAgent returns Commands).
    const view = isCommand(current) || Array.isArray(current) ? { messages: messagesOf(current) } : current;
    const failure = await evaluate(nodeStep, correction.evaluators, view, target);
    if (!failure) break;
    if (failure.threw && correction.onEvaluatorError === "continue") break;
    const stalled = previousScore !== undefined && failure.score !== undefined && failure.score <= previousScore;
    if (attempt >= max || stalled || failure.threw || !canCorrect(input)) {
      run.failure ??= {
        type: failure.error.type,
        message: `${failure.error.message}${stalled ? " (the score stopped improving)" : ` (after ${attempt} attempt${attempt === 1 ? "" : "s"})`}`,
      };
      break;
    }
    previousScore = failure.score;
    const text = `Your previous answer did not pass the check "${failure.name}"${failure.reason ? `: ${failure.reason}` : ""}. Correct your answer and reply again.`;
    const corrective = new HumanMessage({ content: text, name: "agentwarden" });
    failure.step.recoveredBy = "eval_correction";
    const step = run.start("recovery", target, nodeStep, (s) => {
      s.recovery = {
        trigger: "eval_failed",
        cause: failure.name,
        action: "eval_correction",
        target,
        attempts: attempt + 1,
      };
      const captured = run.warden.capture("gen_ai.input.messages", text);
      if (captured !== undefined) s.recovery.message = captured;
    });
    const state = input as { messages: unknown[] };
    const next = { ...state, messages: [...state.messages, ...exchange, corrective] };
    try {
      current = await enterStep(step, () => invoke(next, config));
    } catch (error) {
      run.end(step, "error", {
        type: "recovery_failed",
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    run.end(step, "ok");
    exchange = [...exchange, corrective, ...messagesOf(current)];
  }
  return withMessages(current, exchange);
}

/** The messages a node's output writes: a state update, a Command's update, or a list of Commands (createAgent). */
function messagesOf(output: unknown): unknown[] {
  if (Array.isArray(output)) return output.flatMap(messagesOf);
  if (isCommand(output)) return messagesOf(output.update);
  const m = (output as { messages?: unknown } | null)?.messages;
  return Array.isArray(m) ? m : m !== undefined ? [m] : [];
}

/** The node's output with its messages replaced by the whole exchange, in the output's own shape. */
function withMessages(output: unknown, exchange: unknown[]): unknown {
  if (exchange.length === 0 || typeof output !== "object" || output === null) return output;
  if (Array.isArray(output))
    return [new Command({ update: { messages: exchange } }), ...output.filter((c) => messagesOf(c).length === 0)];
  if (isCommand(output))
    return new Command({ ...output, update: { ...(output.update as object), messages: exchange } });
  return { ...output, messages: exchange };
}

function isCommand(value: unknown): value is Command & { update: unknown } {
  return typeof value === "object" && value !== null && (value as { lg_name?: unknown }).lg_name === "Command";
}

function canCorrect(input: unknown): boolean {
  return Array.isArray((input as { messages?: unknown } | null)?.messages);
}

function isFinalAnswer(output: unknown): boolean {
  const last = messagesOf(output).at(-1) as MessageLike | undefined;
  if (!last || typeof last.getType !== "function") return false;
  return last.getType() === "ai" && (!Array.isArray(last.tool_calls) || last.tool_calls.length === 0);
}
