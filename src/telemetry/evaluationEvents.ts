import type { Attributes, Context } from "@opentelemetry/api";
import type { Step } from "../run/step.js";
import * as sc from "./semconv.js";

/** The event an evaluation result is, in the GenAI conventions. */
export const GEN_AI_EVALUATION_RESULT = "gen_ai.evaluation.result";

/**
 * The part of an OpenTelemetry Logs API `LoggerProvider` (`@opentelemetry/api-logs`) agentwarden
 * uses, structurally: the core imports nothing of the Logs API, so it stays an optional peer.
 */
export interface LoggerProviderLike {
  getLogger(name: string, version?: string): LoggerLike;
}

export interface LoggerLike {
  emit(record: { eventName?: string; attributes?: Attributes; context?: Context; timestamp?: number }): void;
}

/**
 * The attributes of an eval step's `gen_ai.evaluation.result` event: its name, score value and
 * label (`pass` or `fail`), explanation (already redacted when the step ended), and `error.type`
 * when the evaluator threw.
 */
export function evaluationAttributes(step: Step): Attributes | undefined {
  const e = step.eval;
  if (!e) return undefined;
  const a: Attributes = { [sc.GEN_AI_EVALUATION_NAME]: e.name };
  if (e.score !== undefined) a[sc.GEN_AI_EVALUATION_SCORE_VALUE] = e.score;
  const pass = e.pass ?? step.status === "ok";
  a[sc.GEN_AI_EVALUATION_SCORE_LABEL] = pass ? "pass" : "fail";
  if (e.reason !== undefined) a[sc.GEN_AI_EVALUATION_EXPLANATION] = e.reason;
  if (step.error?.type === "eval_error") a[sc.ERROR_TYPE] = step.error.type;
  return a;
}

/**
 * The step an evaluation is about: the eval step's parent (the task's root for final checks, the
 * node for a correction), or, under a guard, the model or tool call the guard checked.
 */
export function evaluatedStep(step: Step): Step | undefined {
  const parent = step.parent;
  return parent?.kind === "guard" ? parent.parent : parent;
}
