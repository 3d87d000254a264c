import {
  planRecovery,
  type RecoveryAction,
  type RecoveryConfig,
  retryTransient,
  runInStep,
  type Step,
} from "../../src/index.js";
import { attempt, type Failed, type Outcome, settle, type ToolCall } from "./toolCall.js";

/**
 * Carries out the core's recovery plan for a failed call, as the LangGraph tool funnel does:
 * retries of a transient failure, then the tool's fallback (called with the same arguments). A
 * direct call's result goes to agent code, not to a model, so it is never answered with text (the
 * handler, the corrective message), as the tool funnel answers only a model's tool call.
 */
export async function recover(
  call: ToolCall,
  parent: Step,
  failure: Failed,
  recovery: RecoveryConfig,
): Promise<unknown> {
  const run = parent.run;
  let last = failure;
  let attempts = 1;
  const open = (action: RecoveryAction) => {
    last.step.recoveredBy = action;
    return run.start("recovery", call.name, parent, (s) => {
      s.recovery = { trigger: "tool_error", cause: last.cls, action, target: call.name };
    });
  };
  for (const decision of planRecovery({ tool: call.name, failureClass: last.cls }, recovery, false)) {
    switch (decision.action) {
      case "retry": {
        const step = open("retry");
        let outcome: Outcome;
        try {
          outcome = await retryTransient(
            decision.retry,
            () => {
              attempts++;
              return run.hub.activate(step, () => attempt(call, step, undefined, true));
            },
            (o) => o.kind === "failed" && o.cls === "transient",
            call.signal,
          );
        } catch (error) {
          finish(step, "error", error);
          throw run.guard?.tripError ?? error;
        }
        if (outcome.kind !== "failed") {
          finish(step, "ok");
          return outcome.result;
        }
        last = outcome;
        finish(step, "error");
        if (last.cls === "control") return settle(last);
        break;
      }
      case "fallback": {
        const fallback = decision.tool as { invoke?: (input: unknown) => Promise<unknown> };
        if (typeof fallback.invoke !== "function") break;
        const invoke = fallback.invoke.bind(fallback);
        const step = open("fallback");
        try {
          const output = await runInStep(step, () => invoke(call.args));
          const result = asResult(output);
          if (!result.isError) {
            finish(step, "ok");
            return result;
          }
          finish(step, "error");
        } catch (error) {
          finish(step, "error", error);
          if (run.guard?.tripError) throw run.guard.tripError;
        }
        break;
      }
      case "handler":
      case "corrective_message":
        break; // text is for a model's tool call (see above)
    }
  }
  return settle(last);

  function finish(step: Step, status: "ok" | "error", error?: unknown): void {
    if (step.recovery) step.recovery.attempts = attempts;
    run.end(
      step,
      status,
      status === "error"
        ? { type: "recovery_failed", message: error instanceof Error ? error.message : last.error.message }
        : undefined,
    );
  }
}

/** A fallback's output as a `tools/call` result: a result as it is, a ToolMessage or text as text content. */
function asResult(output: unknown): { content: unknown; isError?: boolean } {
  const o = output as { content?: unknown; isError?: unknown; status?: unknown } | null;
  if (o !== null && typeof o === "object" && Array.isArray(o.content))
    return { ...(o as object), content: o.content, isError: o.isError === true || o.status === "error" };
  const content = o !== null && typeof o === "object" && "content" in o ? o.content : output;
  const text = typeof content === "string" ? content : JSON.stringify(content);
  return { content: [{ type: "text", text }], isError: o !== null && typeof o === "object" && o.status === "error" };
}
