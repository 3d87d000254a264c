import type { RecoveryConfig, RetryConfig } from "./RecoveryConfig.js";
import type { ToolErrorContext, ToolErrorHandler } from "./ToolFailure.js";

/** One recovery step for a failed tool call; the adapter carries it out in framework terms. */
export type RecoveryDecision =
  | { action: "retry"; retry: RetryConfig }
  | { action: "fallback"; tool: unknown }
  | { action: "handler"; handler: ToolErrorHandler }
  | { action: "corrective_message" };

/**
 * What to try for a failed tool call, cheapest first: retries of a transient failure, the tool's
 * fallback, the user's handler, a corrective message (when the caller can answer the call with
 * text the model reads). Empty: give up, the failure stands. Control failures (trips, interrupts,
 * aborts) are never recovered.
 */
export function planRecovery(
  failure: Pick<ToolErrorContext, "tool" | "failureClass">,
  recovery: RecoveryConfig,
  canAnswer: boolean,
): RecoveryDecision[] {
  if (failure.failureClass === "control") return [];
  const plan: RecoveryDecision[] = [];
  const retry = recovery.retry;
  if (failure.failureClass === "transient" && retry && retry.maxAttempts > 1) plan.push({ action: "retry", retry });
  const fallback = recovery.fallbacks[failure.tool];
  if (fallback) plan.push({ action: "fallback", tool: fallback });
  if (recovery.onToolError) plan.push({ action: "handler", handler: recovery.onToolError });
  if (recovery.correctiveMessages && canAnswer) plan.push({ action: "corrective_message" });
  return plan;
}

/** The handler's text for a failure, or undefined; a handler that throws is reported and skipped. */
export async function handlerText(
  handler: ToolErrorHandler,
  context: ToolErrorContext,
  report: (error: unknown) => void,
): Promise<string | undefined> {
  try {
    const text = await handler(context);
    return typeof text === "string" ? text : undefined;
  } catch (error) {
    report(error);
    return undefined;
  }
}
